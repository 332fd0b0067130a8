"""The marketplace tables: countries, categories, chains, items, stores and prices.
Models hold data only; services and views decide when to commit."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db


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
    # WGS 84 degrees. Null only for a store whose place is unknown (one created before
    # release 2 in a city the upgrade did not know): it is never in a "near" answer.
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    chain: Mapped[Chain] = relationship(lazy="joined")

    # "Near me" first narrows by a lat/lon box inside one country: this index answers
    # that box with a range scan on lat and lon read from the index itself.
    __table_args__ = (Index("ix_stores_country_lat_lon", "country", "lat", "lon"),)


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

    # A basket query looks prices up by item and store: this index holds every column it
    # reads, so it reads only the basket's rows, and only from the index ("covering").
    __table_args__ = (Index("ix_prices_basket", "item_id", "store_id", "amount",
                            "regular_amount", "promo_ends"),)
