"""The grocery-deals app: where to buy a shopping list today. Used by the CLI and the
shopper page, so both give the same answer.

Calls made, kept few because each one counts against the key's daily quota:
one ``POST /v1/cheapest-stores`` (a second one only if some items were unknown). Its answer
carries everything shown: prices, promotions and their end dates, store names.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from .errors import NotFoundError
from .sdk import StorePriceClient

MAX_QUANTITY = 99  # the API's limit; checked here too so the shopper hears it early

Basket = list[tuple[str, int]]  # (item id, quantity), in the shopper's order


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
class Offer:
    """The cheapest offer of one basket item in the country."""
    item: str
    quantity: int
    store: str
    unit_price: str
    line_total: str
    regular_price: str | None = None  # set when the offer is a promotion
    promo_ends: str | None = None     # last day of the promotion (ISO date)

    @property
    def on_sale(self) -> bool:
        return self.regular_price is not None


@dataclass
class BestStore:
    id: str
    name: str
    city: str
    total: str
    missing: list[str]  # basket items this store does not sell


@dataclass
class PlanStop:
    store: str
    items: list[str]
    subtotal: str


@dataclass
class Plan:
    total: str
    stores: list[PlanStop]
    missing: list[str]
    saving: str | None  # against the best single store, when both buy the whole basket


@dataclass
class NotFound:
    item: str
    reason: str  # "unknown item" or "not sold in US"


@dataclass
class DealsReport:
    country: str | None
    currency: str | None
    basket: Basket
    best_store: BestStore | None = None
    plan: Plan | None = None
    per_item: list[Offer] = field(default_factory=list)
    not_found: list[NotFound] = field(default_factory=list)
    store_names: dict[str, str] = field(default_factory=dict)  # id -> name, where known

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["basket"] = [{"item": item, "quantity": qty} for item, qty in self.basket]
        for offer, row in zip(self.per_item, data["per_item"]):
            row["on_sale"] = offer.on_sale
        return data


def find_deals(api: StorePriceClient, basket: Basket, country: str | None) -> DealsReport:
    """Ask the API where to buy ``basket`` in ``country`` (None: the key's only country)."""
    not_found: list[NotFound] = []
    try:
        answer = api.cheapest_stores(basket, country, max_stores=2, limit=5)
    except NotFoundError as error:
        if not error.unknown:  # e.g. an unknown country: nothing to drop, so report it
            raise
        not_found = [NotFound(item, "unknown item") for item in error.unknown]
        basket = [line for line in basket if line[0] not in error.unknown]
        if not basket:
            return DealsReport(country, None, basket, not_found=not_found)
        answer = api.cheapest_stores(basket, country, max_stores=2, limit=5)

    country = answer["country"]
    quantities = dict(basket)
    report = DealsReport(country, answer["currency"], basket, not_found=not_found)
    report.store_names = {s["store"]["id"]: s["store"]["name"] for s in answer["stores"]}
    if answer.get("plan"):
        report.store_names.update({s["store"]: s["name"] for s in answer["plan"]["stores"]})

    for best in answer["per_item"]:
        quantity = quantities[best["item"]]
        report.per_item.append(Offer(
            best["item"], quantity, best["store"], best["unit_price"],
            _times(best["unit_price"], quantity), best.get("regular_price"),
            best.get("promo_ends")))
    priced = {offer.item for offer in report.per_item}
    report.not_found += [NotFound(item, f"not sold in {country}")
                         for item, _ in basket if item not in priced]

    if answer["stores"]:
        top = answer["stores"][0]
        report.best_store = BestStore(top["store"]["id"], top["store"]["name"],
                                      top["store"].get("city", ""), top["total"],
                                      top["missing"])
    plan = answer.get("plan")
    if plan and plan["stores"]:
        best = report.best_store
        comparable = best is not None and not best.missing and not plan.get("missing")
        report.plan = Plan(
            plan["total"], [PlanStop(s["store"], s["items"], s["subtotal"])
                            for s in plan["stores"]],
            plan.get("missing", []),
            _minus(best.total, plan["total"]) if best is not None and comparable else None)
    return report


def _times(amount: str, quantity: int) -> str:
    # Decimal keeps the currency's digits: "1.89" * 2 = "3.78", "420" * 2 = "840".
    return str(Decimal(amount) * quantity)


def _minus(a: str, b: str) -> str:
    return str(Decimal(a) - Decimal(b))


# --- plain text, for the terminal ---------------------------------------------------

def render_text(report: DealsReport) -> str:
    cur = report.currency or ""
    names = report.store_names
    count = sum(qty for _, qty in report.basket)
    out = [f"Deals in {report.country or '?'} today for {count} item(s), prices in {cur}:", ""]

    best = report.best_store
    if best is None:
        out.append("No store sells any of these items.")
    else:
        partial = f"  (does not sell: {', '.join(best.missing)})" if best.missing else ""
        out.append(f"Best single store:   {best.name}, {best.city} ({best.id})  "
                   f"total {best.total}{partial}")
    plan = report.plan
    if plan is not None and best is not None:
        if len(plan.stores) < 2:
            out.append("Best two-store plan: none cheaper - buy everything at "
                       f"{names.get(plan.stores[0].store, plan.stores[0].store)}.")
        else:
            saving = (f", saves {plan.saving} against {best.name}" if plan.saving
                      else ", buys every item" if best.missing and not plan.missing else "")
            out.append(f"Best two-store plan: total {plan.total}{saving}")
            for stop in plan.stores:
                label = f"{names[stop.store]} ({stop.store})" if stop.store in names else stop.store
                out.append(f"  {label}: {', '.join(stop.items)} = {stop.subtotal}")
            if plan.missing:
                out.append(f"  (still missing: {', '.join(plan.missing)})")

    if report.per_item:
        out += ["", "Cheapest offer per item:"]
        width = max(len(o.item) + len(str(o.quantity)) + 3 for o in report.per_item)
        for o in report.per_item:
            amount = (o.unit_price if o.quantity == 1
                      else f"{o.quantity} x {o.unit_price} = {o.line_total}")
            sale = ""
            if o.on_sale:
                until = f", until {o.promo_ends}" if o.promo_ends else ""
                sale = f"  SALE (regular {o.regular_price}{until})"
            out.append(f"  {(o.item + ' x' + str(o.quantity)).ljust(width)}  {amount}"
                       f"  at {o.store}{sale}")
    if report.not_found:
        out += ["", "Not found: " + "; ".join(f"{n.item} ({n.reason})" for n in report.not_found)]
    return "\n".join(out)
