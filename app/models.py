"""Database models: the catalogue (countries, items, stores, prices) and the API keys with
their counters. Models hold data only; services and views decide when to commit."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .config import utcnow
from .extensions import db


# --- catalogue -------------------------------------------------------------------------

class Country(db.Model):
    __tablename__ = "countries"
    code: Mapped[str] = mapped_column(String(2), primary_key=True)  # ISO 3166-1 alpha-2
    name: Mapped[str] = mapped_column(String(80))
    currency: Mapped[str] = mapped_column(String(3))  # ISO 4217
    minor_digits: Mapped[int]  # 2 for USD, 0 for JPY: prices are stored in minor units


class Category(db.Model):
    __tablename__ = "categories"
    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))


class Chain(db.Model):
    __tablename__ = "chains"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    price_level: Mapped[float]  # 1.0 = average; 0.85 = discounter


# Items and stores have a public slug (the id clients see) and an integer primary key,
# which keeps the large prices table and its indexes small.
class Item(db.Model):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(ForeignKey("categories.slug"), index=True)
    size: Mapped[float]  # with unit: 1 l, 0.5 kg, 12 pcs -> unit prices per l/kg/pc
    unit: Mapped[str] = mapped_column(String(8))


class Store(db.Model):
    __tablename__ = "stores"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    chain_id: Mapped[int] = mapped_column(ForeignKey("chains.id"))
    country: Mapped[str] = mapped_column(ForeignKey("countries.code"), index=True)
    city: Mapped[str] = mapped_column(String(80))
    chain: Mapped[Chain] = relationship(lazy="joined")


class Price(db.Model):
    __tablename__ = "prices"
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    amount: Mapped[int]  # integer minor units of the store country's currency
    regular_amount: Mapped[int | None]  # set only while on promotion
    promo_ends: Mapped[date | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    store: Mapped[Store] = relationship(lazy="raise")
    item: Mapped[Item] = relationship(lazy="raise")

    # A basket query looks prices up by item: this index makes it read only the basket's rows.
    __table_args__ = (Index("ix_prices_item_store", "item_id", "store_id"),)


# --- API keys ----------------------------------------------------------------------------

class ApiKey(db.Model):
    """An application's credential. Only a hash of the secret is stored (see keycrypto)."""
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # public key id
    name: Mapped[str] = mapped_column(String(120))  # the calling application
    owner: Mapped[str] = mapped_column(String(120), default="")  # the organisation
    plan: Mapped[str] = mapped_column(String(20), default="free")  # for billing reports
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # After a rotation the previous secret keeps working until previous_valid_until.
    previous_secret_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    previous_valid_until: Mapped[datetime | None]
    rotated_at: Mapped[datetime | None]

    scopes: Mapped[str] = mapped_column(String(40), default="read")  # "read,write"
    countries: Mapped[str | None] = mapped_column(String(400))  # "US,CA"; NULL = all
    categories: Mapped[str | None] = mapped_column(String(400))  # "dairy"; NULL = all
    daily_limit: Mapped[int]
    rate_limit: Mapped[str] = mapped_column(String(40))  # flask-limiter syntax: "60/minute"

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    not_before: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]  # refreshed at most once a minute (metering)



class DailyQuota(db.Model):
    """Calls admitted per key per UTC day; incremented atomically in the database so the
    limit is exact across workers, hosts and restarts (see app/limits.py)."""
    __tablename__ = "daily_quota"
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"),
                                        primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    used: Mapped[int] = mapped_column(default=0)


class Usage(db.Model):
    """Metering: one row per key, UTC hour and endpoint. Daily reports sum the hours;
    anomaly detection compares hours with the key's own baseline."""
    __tablename__ = "usage"
    # No foreign key: billing history outlives a deleted key.
    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)  # truncated to the hour, UTC
    endpoint: Mapped[str] = mapped_column(String(60), primary_key=True)
    calls: Mapped[int] = mapped_column(default=0)
    units: Mapped[int] = mapped_column(default=0)  # billable units (see app/metering.py)
    status_2xx: Mapped[int] = mapped_column(default=0)
    status_3xx: Mapped[int] = mapped_column(default=0)
    status_4xx: Mapped[int] = mapped_column(default=0)
    status_5xx: Mapped[int] = mapped_column(default=0)
    status_403: Mapped[int] = mapped_column(default=0)  # part of 4xx; bursts hint at probing
    status_429: Mapped[int] = mapped_column(default=0)  # part of 4xx; refused by a limit
