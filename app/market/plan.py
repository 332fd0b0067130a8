"""The best plan over several stores: which k stores buy the whole basket for the least
(pure, standard library only).

Branch and bound over the stores: dominated stores are dropped first, a greedy plan is
the first answer, a per-item price guess gives the bound, chains are ruled out whole by
their envelopes. `exact` says whether the search finished within its work budget.
basket.py calls `best_plan` for `max_stores` > 1; the rules of "best" are below.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from .plan_pruning import (
    FEWEST_GUESS_ROUNDS,
    GUESS_ROUNDS,
    STORES_PER_ROUND,
    cheaper,
    cheapest_first,
    greedy_plan,
    price_guess,
    resaved,
    undominated,
)

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
# whole basket when no store in the set sells it. Rules 2-4 are plan_key.


def plan_key(cost: int, stores: Iterable[str]) -> tuple:
    """Order of candidate plans, best first (the tests' brute force uses the same rule)."""
    ids = tuple(sorted(stores))
    return (cost, len(ids), ids)


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

    # 3. Branch and bound over the stores sorted by savings, biggest first. A plan that
    # adds stores from position p on saves at most the next few savings in the list, a
    # bound that only gets worse as p grows: once it loses to the best plan, stop.
    work = 0
    # Stores grouped by chain (each store on its own without `chains`). A group's
    # envelope, its members' element-wise minimum, saves at least as much as any of
    # them: when even the envelopes cannot complete a better plan, no member can.
    groups: dict[str, list[int]] = {}
    for j, name in enumerate(names):
        groups.setdefault(chains.get(name, name) if chains else name, []).append(j)
    grouped = len(groups) < len(names)
    group_of = [0] * len(names)
    envelopes = []
    for g, members in enumerate(groups.values()):
        for j in members:
            group_of[j] = g
        envelopes.append([min(column) for column in zip(*(vectors[j] for j in members))])
    # The envelopes' savings below u, kept up to date below the prices a search step
    # reaches with `resaved` (as the stores' are).
    envelope_orders = cheapest_first(envelopes)
    envelope_savings = [sum([ui - e for ui, e in zip(guess, envelope) if e < ui])
                        for envelope in envelopes]

    class Partners:
        """Which groups h could, with a store of group g, still complete `cur` into a plan
        better than the best (judged by their envelopes); worked out per g on first use.
        `alone(g)`: what `cur` plus g's envelope costs (no store of g alone does better)."""

        def __init__(self, cur: list[int], size: int, floor: int):
            self.cur, self.size, self.known, self.lowered = cur, size, {}, {}
            # The bound of step 2 for a pair of groups: u lowered by `cur` (costing
            # `floor`) minus both envelopes' savings below that.
            self.floor = floor
            self.saves = resaved(envelope_savings, guess, cur, envelopes, envelope_orders)

        def alone(self, g: int) -> int:
            return self.lower(g)[1]

        def lower(self, g: int) -> tuple[list[int], int]:
            """`cur` lowered by g's envelope, and its cost."""
            nonlocal work
            if g not in self.lowered:
                work += 1
                low = cheaper(self.cur, envelopes[g])
                self.lowered[g] = low, sum(low)
            return self.lowered[g]

        def __getitem__(self, g: int) -> set[int]:
            nonlocal work
            if g not in self.known:
                low, partners = self.lower(g)[0], set()
                for h, envelope in enumerate(envelopes):
                    if (self.floor - self.saves[g] - self.saves[h], self.size) > best[:2]:
                        continue              # a cheap test first: the bound
                    work += 1
                    if (sum(cheaper(low, envelope)), self.size) <= best[:2]:
                        partners.add(h)
                self.known[g] = partners
                if work > work_budget:
                    raise _OutOfWork
            return self.known[g]

    def search(candidates: list[int], savings: list[int], cur: list[int],
               chosen: list[int]) -> None:
        """Extend `chosen` by stores from `candidates` (by savings, biggest first)."""
        nonlocal best, work
        room, size = max_stores - len(chosen), len(chosen) + 1
        prices = cheaper(cur, guess)      # u, lowered where `chosen` already sells cheaper
        floor = sum(prices)               # what `chosen` costs measured against u
        viable = Partners(cur, size + 1, floor) if room == 2 and grouped else None
        if viable is not None:   # where each group's stores are in `candidates`
            positions: dict[int, list[int]] = {}
            for q, c in enumerate(candidates):
                positions.setdefault(group_of[c], []).append(q)
        # Stores that are equivalent here, i.e. cost the same once combined with
        # `chosen` (same chain prices, and they differ only in items `chosen` already
        # sells cheaper), lead to plans of equal cost: below the first one expanded,
        # only a lower id can still win the tie-break.
        expanded: dict[tuple[int, ...], str] = {}
        ordered = [savings[c] for c in candidates] if room > 1 else None  # biggest first
        for p, j in enumerate(candidates):
            # (cost, size) > best's: even a tie on cost would lose the tie-break.
            most = savings[j] if room == 1 else sum(ordered[p:p + room])
            if (floor - most, size) > best[:2]:
                return
            if viable is not None and (viable.alone(group_of[j]), size) > best[:2] and \
                    not viable[group_of[j]]:
                continue                      # j's chain can neither finish nor partner
            work += 1                         # one store set costed
            if work > work_budget:
                raise _OutOfWork
            new = cheaper(cur, vectors[j])
            cost = sum(new)
            if cost <= best[0]:
                best = min(best, plan_key(cost, [names[c] for c in chosen + [j]]))
            partners = viable[group_of[j]] if viable is not None else None
            if room > 1 and partners != set() and \
                    expanded.setdefault(tuple(new), names[j]) >= names[j]:
                expanded[tuple(new)] = names[j]
                rest_savings = savings
                if partners is not None:
                    # The last store can only come from a partner group: just their
                    # stores after j, still in savings order.
                    rest = [candidates[q] for q in sorted(
                        q for h in partners for q in positions.get(h, ()) if q > p)]
                else:
                    rest = candidates[p + 1:]
                if room > 2:
                    # The rest will branch again: re-measure their savings against the
                    # prices `chosen` + j reach, so that two stores saving on the same
                    # items (the same chain's prices) are not both counted in full.
                    rest_savings = resaved(savings, prices, vectors[j], vectors, orders)
                    # Biggest savings first, ties by id: indexes are in id order, and
                    # two plain sorts (the second is stable) beat one with a tuple key.
                    rest.sort()
                    rest.sort(key=rest_savings.__getitem__, reverse=True)
                search(rest, rest_savings, new, chosen + [j])

    order = sorted(range(len(names)), key=lambda j: (-savings[j], names[j]))
    try:
        search(order, savings, [penalty] * len(items), [])
        exact = True
    except _OutOfWork:
        exact = False
    return make_plan(basket, matrix, best[2], max_stores, exact)


class _OutOfWork(Exception):
    pass


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
