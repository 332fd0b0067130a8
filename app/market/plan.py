"""The best plan over several stores: which k stores buy the whole basket for the least
(pure, standard library only).

Dominated stores are dropped first, a greedy plan is the first answer, a per-item price
guess gives the bound, then a branch and bound over the stores (plan_search.py) rules
out whole chains by their envelopes. `exact` says whether it finished within its work
budget. basket.py calls `best_plan` for `max_stores` > 1; the rules of "best" are below.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from .plan_pruning import (
    FEWEST_GUESS_ROUNDS,
    GUESS_ROUNDS,
    STORES_PER_ROUND,
    cheapest_first,
    greedy_plan,
    price_guess,
    undominated,
)
from .plan_search import plan_key, search_plans

if TYPE_CHECKING:  # only for the annotations: basket.py imports this module
    from .basket import Basket, Matrix

# Work budget of the plan search: one unit per store set (or set of chain envelopes)
# whose cost it computes (a few microseconds each). Typical requests need tens to
# hundreds of units, 1,000 stores with chain-wide prices 2,000-50,000; the cap keeps a
# pathological one to a fraction of a second. The fixed setup (dominated stores, greedy
# start, price guess: a few passes over the stores) is not counted.
DEFAULT_WORK_BUDGET = 50_000
# Dropping dominated stores is what makes 1,000 stores with chain-wide prices tractable;
# below this many stores the search is cheaper than finding them (measured: ~15 % less
# time at 50 stores, every plan still exact). tests/market/test_basket.py runs both ways.
DROP_DOMINATED_FROM = 100


@dataclass
class PlanStop:
    store: str
    items: list[str]
    subtotal: int


@dataclass
class Plan:
    max_stores: int
    total: int
    exact: bool          # False: the search ran out of work_budget; best plan found so far
    stores: list[PlanStop]
    missing: list[str]   # basket items the plan does not buy (see best_plan)


# --- The multi-store plan ------------------------------------------------------------
#
# A plan picks at most k stores and buys each item at the cheapest of them (tie: lowest
# store id). The best plan, in order of the rules:
#   1. covers the most items (all that are offered anywhere, if k stores can);
#   2. then costs the least;
#   3. then uses the fewest stores (so a store that adds nothing is never in it);
#   4. then has the smallest sorted tuple of store ids, so answers are deterministic.
# Rule 1 is folded into the cost: a store set's cost is a vector over the items offered
# somewhere, per item the cheapest line total in the set, or a penalty larger than any
# whole basket when no store in the set sells it. Rules 2-4 are plan_key (plan_search.py).


def best_plan(basket: Basket, matrix: Matrix, max_stores: int,
              work_budget: int = DEFAULT_WORK_BUDGET,
              chains: dict[str, str] | None = None) -> Plan:
    """The best plan (rules above) with at most `max_stores` stores.

    `missing` lists the items the plan does not buy: those offered nowhere, plus, only
    when max_stores stores cannot sell everything, the ones it could not cover.
    `exact` is False if the search used up `work_budget` units: then the plan is the
    best found so far (never worse than the greedy one).
    """
    offered = set().union(*matrix.values())
    items = [item for item in basket if item in offered]
    if not items:
        return make_plan(basket, matrix, [], max_stores, exact=True)
    penalty = 1 + sum(basket.values()) * max(
        offer.unit_price for row in matrix.values() for offer in row.values())
    # Cost vectors in store id order; then, with many stores, only those no other store
    # dominates.
    names = sorted(matrix)
    vectors = cost_vectors(basket, matrix, names, items, penalty)
    if len(vectors) >= DROP_DOMINATED_FROM:
        kept = undominated(vectors)
        vectors, names = [vectors[j] for j in kept], [names[j] for j in kept]

    # 1. A sensible first answer, the greedy one: it is what we return if the work runs
    # out, and the better it is, the more the search below can skip.
    cur, chosen = greedy_plan(vectors, max_stores)
    best = plan_key(sum(cur), [names[j] for j in chosen])

    # 2. The bound. Guess a price u[i] for each item. Whatever stores a plan uses, item i
    # costs at least u[i] minus what one of them undercuts u[i] by, so every plan costs
    # at least sum(u) - (sum of its stores' savings below u). That holds for any u, and
    # a well-chosen u makes it nearly tight: much stronger than "each item at its
    # cheapest", which pretends a few stores could carry every item's best price.
    rounds = min(GUESS_ROUNDS, max(FEWEST_GUESS_ROUNDS, len(vectors) // STORES_PER_ROUND))
    orders = cheapest_first(vectors)
    guess, savings = price_guess(vectors, max_stores, cur, best[0], rounds, orders)

    # 3. Branch and bound over the stores, biggest savings first (plan_search.py).
    best, exact = search_plans(vectors, names, chains, max_stores, guess, savings, orders,
                               best, work_budget, penalty)
    return make_plan(basket, matrix, best[2], max_stores, exact)


def cost_vectors(basket: Basket, matrix: Matrix, stores: list[str], items: list[str],
                 penalty: int) -> list[list[int]]:
    """Per store, its line total for each of `items` (`penalty` where it has none).
    Filled from what each store sells (most sell only part of the basket)."""
    position = {item: n for n, item in enumerate(items)}
    vectors = []
    for store in stores:
        vector = [penalty] * len(items)
        for item, offer in matrix[store].items():
            vector[position[item]] = offer.unit_price * basket[item]
        vectors.append(vector)
    return vectors


def make_plan(basket: Basket, matrix: Matrix, stores: Iterable[str], max_stores: int,
              exact: bool) -> Plan:
    """Buy each item at the cheapest of `stores` (tie: lowest store id)."""
    stores = sorted(stores)
    bought: dict[str, list[str]] = {s: [] for s in stores}
    missing = []
    for item in basket:
        sellers = [s for s in stores if item in matrix[s]]
        if sellers:
            bought[min(sellers, key=lambda s: (matrix[s][item].unit_price, s))].append(item)
        else:
            missing.append(item)
    stops = [PlanStop(s, items, sum(matrix[s][i].unit_price * basket[i] for i in items))
             for s, items in bought.items() if items]    # a store that adds nothing is dropped
    return Plan(max_stores, sum(stop.subtotal for stop in stops), exact, stops, missing)
