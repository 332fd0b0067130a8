"""The cheapest price near the shopper for a few items at once, in one API call: search
results show it (with a sale badge), and a list item gets a cheaper alternative.

``POST /v1/cheapest-stores`` answers ``per_item`` with the cheapest offer of each item
within the radius (store, price, regular price while on sale), whatever the plan; so a
question about eight items is one call, not eight. Items no store nearby sells are absent.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .catalogue import Item, ItemDirectory
from .places import Location
from .sdk import StorePriceClient

MAX_ITEMS = 40  # items in one question: the API bills 1 unit per 10 basket items beyond


@dataclass(frozen=True)
class Offer:
    item: str
    store_id: str
    store_name: str
    price: str
    regular_price: str | None  # set while on sale
    currency: str

    @property
    def on_sale(self) -> bool:
        return self.regular_price is not None


@dataclass(frozen=True)
class Alternative:
    """``instead`` costs less per kg, l or piece near the shopper than ``item``."""
    item: Item
    offer: Offer | None   # the item's own best price nearby (None: not sold nearby)
    instead: Item
    instead_offer: Offer


def cheapest_nearby(api: StorePriceClient, item_ids: list[str], location: Location,
                    stores: dict[str, dict] | None = None) -> dict[str, Offer]:
    """item id -> its cheapest offer within the location's radius (one call)."""
    ids = list(dict.fromkeys(item_ids))[:MAX_ITEMS]
    if not ids:
        return {}
    answer = api.cheapest_stores(ids, location.country, max_stores=1, limit=1,
                                 near=location.near,
                                 radius_km=location.radius_km if location.near else None)
    names = {**{s["store"]["id"]: s["store"]["name"] for s in answer["stores"]},
             **{i: s.get("name", i) for i, s in (stores or {}).items()}}
    return {row["item"]: _offer(row, names, answer["currency"]) for row in answer["per_item"]}


def cheaper_alternatives(api: StorePriceClient, directory: ItemDirectory, items: list[Item],
                         location: Location, stores: dict[str, dict] | None = None
                         ) -> list[Alternative]:
    """For each of ``items``, the known item that could replace it (same category, unit
    and size class, a related name) and costs less per unit near the shopper, if any.
    One call, for the items and their candidates together."""
    candidates = {item.id: directory.alternatives(item) for item in items}
    asked = [item.id for item in items if candidates[item.id]]
    asked += [c.id for item in items for c in candidates[item.id]]
    if not any(candidates.values()):
        return []
    offers = cheapest_nearby(api, asked, location, stores)
    found = []
    for item in items:
        own = offers.get(item.id)
        priced = [(c, offers[c.id]) for c in candidates[item.id] if c.id in offers]
        if not priced:
            continue
        best, offer = min(priced, key=lambda pair: pair[0].per_unit_value(pair[1].price))
        if own is None or best.per_unit_value(offer.price) < item.per_unit_value(own.price):
            found.append(Alternative(item, own, best, offer))
    return found


def _offer(row: dict[str, Any], names: dict[str, str], currency: str) -> Offer:
    return Offer(row["item"], row["store"], names.get(row["store"], row["store"]),
                 row["unit_price"], row.get("regular_price"), currency)
