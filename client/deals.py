"""The answer a shopper can follow: where to buy a shopping list today near them.

One ``POST /v1/cheapest-stores`` (with ``near`` when the shopper's place is known) gives the
best single store and the best two-store plan; they are turned into per-store shopping
lists with item names, sizes, unit prices, sale badges, distances and subtotals. Used by
the CLI and the web page, so both give the same answer.

A second store is a second trip: the plan is offered only when it saves at least
``TripThreshold`` (default $2 or 5 % of the single store's total, whichever is less) or
buys items the single store lacks; a smaller saving is named, so the shopper can judge.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from .catalogue import LOOKUPS_PER_CALL, Item, ItemDirectory
from .errors import NotFoundError
from .places import Location
from .sdk import StorePriceClient

MAX_QUANTITY = 99  # the API's limit; checked here too so the shopper hears it early
RANKED_STORES = 50  # ask for the API's maximum, so plan stores come with their prices

Basket = list[tuple[str, int]]  # (item id, quantity), in the shopper's order
# About two US dollars in each currency the API serves (a rough, fixed rate is enough to
# decide whether a trip is worth it); another currency: the percentage alone decides.
DOLLAR_RATES = {"USD": Decimal(1), "CAD": Decimal("1.35"), "GBP": Decimal("0.78"),
                "EUR": Decimal("0.93"), "JPY": Decimal(150)}


@dataclass(frozen=True)
class TripThreshold:
    """When a second store is worth the trip: it saves ``dollars`` (in the answer's
    currency, at DOLLAR_RATES) or ``percent`` of the single store's total."""
    dollars: Decimal = Decimal(2)
    percent: Decimal = Decimal(5)

    def worth(self, saving: Decimal, single_total: Decimal, currency: str | None) -> bool:
        rate = DOLLAR_RATES.get(currency or "")
        by_amount = rate is not None and saving >= self.dollars * rate
        return by_amount or saving * 100 >= self.percent * single_total

    @classmethod
    def from_text(cls, dollars: str | None, percent: str | None) -> TripThreshold:
        """From configuration text ("2", "5"); a missing value keeps its default."""
        default = cls()
        try:
            return cls(Decimal(dollars) if dollars else default.dollars,
                       Decimal(percent) if percent else default.percent)
        except ArithmeticError as error:
            raise ValueError(f"Not a number: {dollars!r} or {percent!r}.") from error


def parse_basket(entries: Iterable[str]) -> Basket:
    """``milk-whole-1l`` or ``milk-whole-1l:2`` (item id, colon, quantity).
    An item named twice adds up: the API wants each item once, with a quantity."""
    quantities: dict[str, int] = {}
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        item, _, count = entry.partition(":")
        item = item.strip().lower()
        if not item or (count and not count.strip().isdigit()):
            raise ValueError(f"{entry!r} is not an item: use ITEM or ITEM:QUANTITY, "
                             "e.g. milk-whole-1l:2.")
        quantities[item] = quantities.get(item, 0) + (int(count) if count else 1)
    for item, quantity in quantities.items():
        if not 1 <= quantity <= MAX_QUANTITY:
            raise ValueError(f"Quantity of {item} must be 1 to {MAX_QUANTITY}, not {quantity}.")
    if not quantities:
        raise ValueError("The shopping list is empty: name at least one item.")
    return list(quantities.items())


def read_list(path: str) -> list[str]:
    """A shopping-list file: one ``ITEM`` or ``ITEM:QUANTITY`` per line; blank lines and
    lines starting with # are ignored."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


@dataclass
class Line:
    """One item to pick up at one store."""
    item: Item
    quantity: int
    unit_price: str
    line_total: str
    regular_price: str | None = None  # set while the price is a promotion
    promo_ends: str | None = None     # the promotion's last day (ISO date)

    @property
    def on_sale(self) -> bool:
        return self.regular_price is not None

    @property
    def per_unit(self) -> str:
        return self.item.unit_price(self.unit_price)


@dataclass
class Stop:
    """One store of an answer, with what to buy there."""
    id: str
    name: str
    city: str
    distance_km: float | None
    subtotal: str
    lines: list[Line]


@dataclass
class Choice:
    """A way to buy the list: one store, or a plan over two."""
    total: str
    stops: list[Stop]
    missing: list[Item]          # items none of its stores sells
    saving: str | None = None    # a plan's saving against the best single store


@dataclass
class BasketAnswer:
    location: Location
    country: str | None
    currency: str | None
    basket: list[tuple[Item, int]]
    single: Choice | None = None
    plan: Choice | None = None   # only when two stores beat one by a trip's worth
    small_plan: Choice | None = None  # two stores beat one, but by less than that
    unknown: list[str] = field(default_factory=list)       # ids not in the catalogue
    not_sold: list[Item] = field(default_factory=list)     # no store nearby sells them

    @property
    def note(self) -> str | None:
        if self.single is None and self.basket:
            return f"No store {self.location.within} sells any of these items."
        return None


def find_basket(api: StorePriceClient, directory: ItemDirectory, basket: Basket,
                location: Location, threshold: TripThreshold = TripThreshold(),
                lookups: int = LOOKUPS_PER_CALL, trust_catalogue: bool = False
                ) -> BasketAnswer:
    """Ask the API where to buy ``basket`` near ``location``. With ``trust_catalogue``
    (the web page), ids the directory knows to be unknown (it holds the whole catalogue
    the key may see) are not sent: the API would only refuse them, and bill the refusal.
    The command line sends them, so that the API says why (a 403 names the category)."""
    items = directory.resolve(api, [item for item, _ in basket], lookups)
    unknown = [i for i, _ in basket
               if trust_catalogue and directory.complete and not directory.knows(i)]
    basket = [line for line in basket if line[0] not in unknown]
    answer = None
    try:
        answer = _ask(api, basket, location) if basket else None
    except NotFoundError as error:
        if not error.unknown:  # e.g. an unknown country: nothing to drop, so report it
            raise
        unknown += list(error.unknown)
        basket = [line for line in basket if line[0] not in unknown]
        answer = _ask(api, basket, location) if basket else None
    result = BasketAnswer(location, None, None, [(items[i], q) for i, q in basket],
                          unknown=unknown)
    if answer is None:  # every item was unknown
        return result
    result.country, result.currency = answer["country"], answer["currency"]
    sold = {offer["item"] for offer in answer["per_item"]}
    result.not_sold = [items[i] for i, _ in basket if i not in sold]
    if answer["stores"]:
        top = answer["stores"][0]
        result.single = Choice(top["total"], [_stop(top["store"], top["total"],
                                                     top["lines"], items)],
                               [items[i] for i in top["missing"]])
        plan = _two_store_plan(api, answer, dict(basket), items, result.single)
        if plan is not None and (plan.saving is None or threshold.worth(
                Decimal(plan.saving), Decimal(top["total"]), result.currency)):
            result.plan = plan
        else:
            result.small_plan = plan
    return result


def _two_store_plan(api: StorePriceClient, answer: dict[str, Any], quantities: dict[str, int],
                    items: dict[str, Item], single: Choice) -> Choice | None:
    """The API's plan, when it uses two stores and beats the best single store (cheaper,
    or buying items that store lacks)."""
    plan = answer.get("plan")
    if not plan or len(plan["stores"]) < 2:
        return None
    prices = _prices_by_store(answer)
    stops = [_stop(stop, stop["subtotal"],
                   [_plan_line(api, prices, stop["store"], item, quantities[item])
                    for item in stop["items"]], items)
             for stop in plan["stores"]]
    missing = [items[i] for i in plan.get("missing", [])]
    saving = Decimal(single.total) - Decimal(plan["total"])
    if saving <= 0 and len(missing) >= len(single.missing):
        return None
    # A saving is only meaningful when both buy the whole list.
    comparable = saving > 0 and not single.missing and not missing
    return Choice(plan["total"], stops, missing, str(saving) if comparable else None)


def _ask(api: StorePriceClient, basket: Basket, location: Location) -> dict[str, Any]:
    return api.cheapest_stores(basket, location.country, max_stores=2, limit=RANKED_STORES,
                               near=location.near,
                               radius_km=location.radius_km if location.near else None)


def _prices_by_store(answer: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(store id, item id) -> the line the API priced, from every ranked store."""
    return {(s["store"]["id"], line["item"]): line
            for s in answer["stores"] for line in s["lines"]}


def _plan_line(api: StorePriceClient, prices: dict, store: str, item: str,
               quantity: int) -> dict[str, Any]:
    """A plan names only items per store; their prices come from the ranked stores, or,
    for a store outside the ranking, from one ``GET /v1/prices`` call."""
    line = prices.get((store, item))
    if line is None:
        row = api.prices(item=item, store=store)["data"][0]
        line = {"item": item, "unit_price": row["price"], "regular_price": row["regular_price"],
                "promo_ends": row["promo_ends"]}
    return {**line, "quantity": quantity,
            "line_total": str(Decimal(line["unit_price"]) * quantity)}


def _stop(store: dict[str, Any], subtotal: str, lines: list[dict[str, Any]],
          items: dict[str, Item]) -> Stop:
    return Stop(store.get("id") or store["store"], store["name"], store.get("city", ""),
                store.get("distance_km"), subtotal,
                [Line(items[line["item"]], line["quantity"], line["unit_price"],
                      line["line_total"], line.get("regular_price"), line.get("promo_ends"))
                 for line in lines])
