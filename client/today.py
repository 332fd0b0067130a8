"""Today's deals near the shopper: the day's biggest savings within the radius, by category.

Two calls: ``GET /v1/deals`` (promotions running today, biggest saving first, within the
radius) and ``GET /v1/stores`` with the same ``near`` (the stores' names and distances, since
a deal names its store by id). Items are described by the shared ItemDirectory.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .catalogue import LOOKUPS_PER_CALL, Item, ItemDirectory, category_label
from .places import Location
from .sdk import StorePriceClient

DEALS_SHOWN = 24


@dataclass
class Deal:
    item: Item
    store_id: str
    store_name: str
    distance_km: float | None
    price: str
    regular_price: str
    saving_percent: int
    promo_ends: str | None
    currency: str

    @property
    def per_unit(self) -> str:
        return self.item.unit_price(self.price)


@dataclass
class DealsToday:
    location: Location
    categories: list[tuple[str, list[Deal]]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(deals) for _, deals in self.categories)


def todays_deals(api: StorePriceClient, directory: ItemDirectory, location: Location,
                 limit: int = DEALS_SHOWN, lookups: int = LOOKUPS_PER_CALL) -> DealsToday:
    near: dict[str, Any] = ({"near": location.near, "radius_km": location.radius_km}
                            if location.near else {})
    stores = {s["id"]: s for s in api.stores(location.country, per_page=100, **near)["data"]}
    rows = api.deals(location.country, per_page=limit, **near)["data"]
    if location.stores_in:  # a city without coordinates: its stores only
        stores = {i: s for i, s in stores.items() if s.get("city") == location.stores_in}
        rows = [row for row in rows if row["store"] in stores]
    items = directory.resolve(api, [row["item"] for row in rows], lookups)
    today = DealsToday(location)
    groups: dict[str, list[Deal]] = {}
    for row in rows:
        store = stores.get(row["store"], {})
        item = items[row["item"]]
        groups.setdefault(category_label(item.category), []).append(Deal(
            item, row["store"], store.get("name", row["store"]),
            row.get("distance_km", store.get("distance_km")), row["price"],
            row["regular_price"], row.get("saving_percent", 0), row.get("promo_ends"),
            row["currency"]))
    # Categories in the order of their best deal; deals keep the API's order within each.
    today.categories = list(groups.items())
    return today
