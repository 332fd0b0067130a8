"""Where to buy a basket at the lowest price: the pure engine (standard library only).

Money is integer minor units throughout (cents, or yen), so every sum is exact.
The views turn database rows into `Offer`s, call `cheapest_stores`, format the `Answer`.
`cheapest_stores` combines three answers, each its own function: the best single stores
(rank_single_stores), each item's cheapest offer (cheapest_per_item) and, for
max_stores > 1, the best plan over several stores (best_plan, in plan.py).
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Iterable, NamedTuple

from .plan import DEFAULT_WORK_BUDGET, Plan, best_plan


class Offer(NamedTuple):  # a NamedTuple: thousands are built per query, and cheaply
    store: str                          # store id (slug)
    item: str                           # item id (slug)
    unit_price: int                     # integer minor units
    regular_price: int | None = None    # set when on promotion


@dataclass
class Line:
    item: str
    quantity: int
    unit_price: int
    regular_price: int | None
    line_total: int


@dataclass
class StoreBasket:
    store: str
    total: int
    items_found: int
    missing: list[str]
    lines: list[Line]


@dataclass
class BestOffer:
    item: str
    store: str
    unit_price: int
    regular_price: int | None


@dataclass
class Answer:
    stores: list[StoreBasket]
    per_item: list[BestOffer]
    plan: Plan | None


Basket = dict[str, int]                  # item -> quantity, in the order the client asked
Matrix = dict[str, dict[str, Offer]]     # store -> {item: offer}


def cheapest_stores(basket: Basket, offers: Iterable[Offer], *, limit: int = 5,
                    max_stores: int = 1, work_budget: int = DEFAULT_WORK_BUDGET,
                    chains: dict[str, str] | None = None) -> Answer:
    """Best single stores, the cheapest offer of each item, and (max_stores > 1) a plan.

    `chains` (store -> chain) is optional and changes no answer: the plan search uses
    it to rule out whole chains at once (see best_plan)."""
    matrix = build_matrix(basket, offers)
    plan = (best_plan(basket, matrix, max_stores, work_budget, chains) if max_stores > 1
            else None)
    return Answer(rank_single_stores(basket, matrix, limit), cheapest_per_item(basket, matrix),
                  plan)


def build_matrix(basket: Basket, offers: Iterable[Offer]) -> Matrix:
    """Index offers as store -> {item: offer}, ignoring items outside the basket.

    So every store in the matrix sells at least one basket item.
    """
    matrix: Matrix = {}
    for offer in offers:
        if offer.item in basket:
            row = matrix.get(offer.store)
            if row is None:       # (faster than setdefault, which builds a dict each time)
                row = matrix[offer.store] = {}
            row[offer.item] = offer
    return matrix


def store_basket(store: str, basket: Basket, row: dict[str, Offer]) -> StoreBasket:
    """The whole basket bought at one store; lines and missing items in basket order."""
    lines = [Line(item, qty, row[item].unit_price, row[item].regular_price,
                  row[item].unit_price * qty)
             for item, qty in basket.items() if item in row]
    return StoreBasket(store, sum(line.line_total for line in lines), len(lines),
                       [item for item in basket if item not in row], lines)


def rank_single_stores(basket: Basket, matrix: Matrix, limit: int) -> list[StoreBasket]:
    """The `limit` best single stores: most items found, then cheapest, then store id.

    Complete baskets find the most items, so they come first: a partial basket must
    never look "cheaper" than a complete one just because it leaves things out.
    """
    # Only the stores that find the most items can make the list, so only their
    # totals are worked out: the fewest counts, from the top, that make `limit` stores.
    by_found: dict[int, list[str]] = {}
    for store, row in matrix.items():
        by_found.setdefault(len(row), []).append(store)
    contenders: list[str] = []
    for found in sorted(by_found, reverse=True):
        contenders += by_found[found]
        if len(contenders) >= limit:
            break

    def key(store: str) -> tuple:
        row = matrix[store]
        return (-len(row), sum(o.unit_price * basket[i] for i, o in row.items()), store)

    return [store_basket(s, basket, matrix[s])
            for s in heapq.nsmallest(limit, contenders, key=key)]


def cheapest_per_item(basket: Basket, matrix: Matrix) -> list[BestOffer]:
    """Each item's cheapest offer anywhere (tie: lowest store id), in basket order.

    Items offered nowhere are left out.
    """
    best: dict[str, Offer] = {}
    for store in sorted(matrix):      # ascending ids, so on equal prices the first one stays
        for item, offer in matrix[store].items():
            if item not in best or offer.unit_price < best[item].unit_price:
                best[item] = offer
    return [BestOffer(item, best[item].store, best[item].unit_price, best[item].regular_price)
            for item in basket if item in best]


def lower_bound(basket: Basket, per_item: list[BestOffer]) -> int:
    """No plan can cost less than buying every item at its own cheapest store."""
    return sum(best.unit_price * basket[best.item] for best in per_item)
