"""Where to buy a basket at the lowest price: the pure engine (standard library only).

Money is integer minor units throughout (cents, or yen), so sums are exact.
The views turn rows into `Offer`s, call `cheapest_stores` and format the `Answer`.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Iterable

# Unit of work: one candidate store set whose cost the plan search computes (a few
# microseconds each). 200,000 caps a pathological search at well under a second.
DEFAULT_WORK_BUDGET = 200_000
GUESS_STORES, GUESS_ROUNDS = 50, 20


@dataclass(frozen=True)
class Offer:
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
class PlanStop:
    store: str
    items: list[str]
    subtotal: int


@dataclass
class Plan:
    max_stores: int
    total: int
    exact: bool          # False: the search hit work_budget; best plan found so far
    stores: list[PlanStop]
    missing: list[str]   # basket items the plan does not buy


@dataclass
class Answer:
    stores: list[StoreBasket]
    per_item: list[BestOffer]
    plan: Plan | None


Basket = dict[str, int]                  # item -> quantity, in the client's order
Matrix = dict[str, dict[str, Offer]]     # store -> item -> offer


def build_matrix(basket: Basket, offers: Iterable[Offer]) -> Matrix:
    """Index offers as store -> {item: offer}; offers for items outside the basket are ignored."""
    matrix: Matrix = {}
    for offer in offers:
        if offer.item in basket:
            matrix.setdefault(offer.store, {})[offer.item] = offer
    return matrix


def store_basket(store: str, basket: Basket, row: dict[str, Offer]) -> StoreBasket:
    """What buying the whole basket at one store looks like (lines in basket order)."""
    lines = [Line(item, qty, row[item].unit_price, row[item].regular_price,
                  row[item].unit_price * qty)
             for item, qty in basket.items() if item in row]
    return StoreBasket(store, sum(line.line_total for line in lines), len(lines),
                       [item for item in basket if item not in row], lines)


def rank_single_stores(basket: Basket, matrix: Matrix, limit: int) -> list[StoreBasket]:
    """The `limit` best single stores: most items found first, then cheapest, then store id.

    Full baskets have the most items found, so they naturally rank first; a partial
    basket is never "cheaper" than a full one just because it leaves things out.
    """
    ranked = heapq.nsmallest(limit, matrix, key=lambda s: (-len(matrix[s]), _total(basket, matrix[s]), s))
    return [store_basket(store, basket, matrix[store]) for store in ranked]


def _total(basket: Basket, row: dict[str, Offer]) -> int:
    return sum(offer.unit_price * basket[item] for item, offer in row.items())


def cheapest_per_item(basket: Basket, matrix: Matrix) -> list[BestOffer]:
    """The cheapest offer of each item anywhere (tie: lowest store id), in basket order.

    Buying every item at its own cheapest store is the lower bound for any plan.
    """
    best: list[BestOffer] = []
    for item in basket:
        offers = [row[item] for row in matrix.values() if item in row]
        if offers:
            o = min(offers, key=lambda o: (o.unit_price, o.store))
            best.append(BestOffer(item, o.store, o.unit_price, o.regular_price))
    return best


# --- Multi-store plan --------------------------------------------------------------
#
# A plan picks at most k stores and buys each item at the cheapest of them. We score a
# store set by its cost vector: per item, the cheapest line total among the set, or a
# PENALTY larger than any possible basket when none of the set sells it. Minimising
# the sum therefore covers as many items as possible first, and only then minimises
# money. Equal sums tie-break on (fewer stores, then smallest sorted tuple of store
# ids), so the answer is deterministic and never includes a store that adds nothing.


def plan_key(cost: int, stores: Iterable[str]) -> tuple:
    """Sort key of a candidate plan: lower is better (used by the tests' brute force too)."""
    ids = tuple(sorted(stores))
    return (cost, len(ids), ids)




def best_plan(basket: Basket, matrix: Matrix, max_stores: int,
              work_budget: int = DEFAULT_WORK_BUDGET) -> Plan:
    """The cheapest way to buy the basket from at most `max_stores` stores (see above)."""
    offered = set().union(*matrix.values())
    items = [item for item in basket if item in offered]
    if not items:
        return make_plan(basket, matrix, [], max_stores, exact=True)
    # More than buying everything at the dearest price seen: one missing item always
    # outweighs any amount of money.
    penalty = 1 + sum(basket.values()) * max(
        offer.unit_price for row in matrix.values() for offer in row.values())
    names = sorted(matrix)
    vectors = [[row[i].unit_price * basket[i] if i in row else penalty for i in items]
               for row in map(matrix.get, names)]

    # 1. A sensible first answer, the greedy one.
    cur, chosen, costs = greedy_plan(vectors, max_stores)
    best = plan_key(sum(cur), [names[j] for j in chosen])

    # 2. The bound. Guess a price u[i] per item. Item i then costs at least u[i] minus
    # what the chosen stores undercut u[i] by, so ANY set of stores costs at least
    # sum(u) - sum of each store's "savings" below u. That holds for every u; a good u
    # (found below) makes it nearly tight, far tighter than "each item at its cheapest".
    promising = heapq.nsmallest(GUESS_STORES, range(len(names)), key=costs.__getitem__)
    guess = price_guess([vectors[j] for j in promising], max_stores, best[0], cur)
    savings = [savings_below(guess, v) for v in vectors]

    # 3. Branch and bound: try stores by savings, largest first. Then "the best any
    # stores from j on can do" only gets worse as j grows, so the moment that bound
    # exceeds the best plan so far, the whole rest of the list is cut.
    order = sorted(range(len(names)), key=lambda j: (-savings[j], names[j]))
    vectors = [vectors[j] for j in order]
    savings = [savings[j] for j in order]
    names = [names[j] for j in order]
    work = 0

    def search(start: int, cur: list[int], chosen: list[str]) -> None:
        nonlocal best, work
        room = max_stores - len(chosen)
        floor = sum(cheaper(cur, guess))    # cur's cost if no store beat the guess
        for j in range(start, len(names)):
            if floor - sum(savings[j:j + room]) > best[0]:
                return          # ">" not ">=": an equal cost may still win the tie-break
            work += 1
            if work > work_budget:
                raise _OutOfWork
            new = cheaper(cur, vectors[j])
            if sum(new) <= best[0]:
                best = min(best, plan_key(sum(new), chosen + [names[j]]))
            if room > 1:
                search(j + 1, new, chosen + [names[j]])

    try:
        search(0, [penalty] * len(items), [])
        exact = True
    except _OutOfWork:
        exact = False
    global LAST_WORK; LAST_WORK = work  # DEBUG
    return make_plan(basket, matrix, best[2], max_stores, exact)


class _OutOfWork(Exception):
    pass


def cheaper(a: list[int], b: list[int]) -> list[int]:
    """Element-wise minimum (a comprehension: about twice as fast as map(min, a, b))."""
    return [x if x < y else y for x, y in zip(a, b)]


def savings_below(prices: list[int], vector: list[int]) -> int:
    """How much a store's cost vector undercuts `prices` by, in total."""
    return sum([p - x for p, x in zip(prices, vector) if x < p])


def greedy_plan(vectors: list[list[int]], k: int) -> tuple[list[int], list[int], list[int]]:
    """Add the store that lowers the cost most, up to k times (tie: lowest index).

    Returns the plan's cost vector, the chosen indexes, and every store's cost as the
    next addition at the last step (a cheap way to spot promising stores).
    """
    costs = [sum(v) for v in vectors]     # alone, each store costs its own vector
    cur, chosen = [], []
    while True:
        j = costs.index(min(costs))
        if chosen and costs[j] >= sum(cur):
            break                          # nothing helps any more
        cur = cheaper(cur, vectors[j]) if chosen else vectors[j]
        chosen.append(j)
        if len(chosen) == k:
            break
        costs = [sum(cheaper(cur, v)) for v in vectors]
    return cur, chosen, costs


def price_guess(vectors: list[list[int]], k: int, target: int, start: list[int],
                rounds: int = GUESS_ROUNDS) -> list[int]:
    """Per-item prices u that make the bound sum(u) - (k largest savings) high.

    Subgradient ascent: an item undercut by none of the k best stores is priced too
    low (raise it), one undercut by two or more is counted twice (lower it). Steps
    shrink each round; we keep the u with the best bound seen.
    """
    u, best_bound, best_u = start, None, start
    for step in range(rounds):
        savings = [savings_below(u, v) for v in vectors]
        top = heapq.nlargest(k, range(len(vectors)), key=savings.__getitem__)
        bound = sum(u) - sum(savings[j] for j in top)
        if best_bound is None or bound > best_bound:
            best_bound, best_u = bound, u
        grad = [1 - sum(vectors[j][i] < u[i] for j in top) for i in range(len(u))]
        norm = sum(g * g for g in grad)
        if norm == 0:
            break       # every item undercut exactly once: the bound is as good as it gets
        size = 0.9 ** step * max(target - bound, 1) / norm
        u = [round(x + size * g) for x, g in zip(u, grad)]
    return best_u


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
             for s, items in bought.items() if items]   # a store that adds nothing is left out
    return Plan(max_stores, sum(stop.subtotal for stop in stops), exact, stops, missing)


def cheapest_stores(basket: Basket, offers: Iterable[Offer], *, limit: int = 5,
                    max_stores: int = 1, work_budget: int = DEFAULT_WORK_BUDGET) -> Answer:
    """Rank single stores, the cheapest offer per item and (max_stores > 1) the best plan."""
    matrix = build_matrix(basket, offers)
    plan = best_plan(basket, matrix, max_stores, work_budget) if max_stores > 1 else None
    return Answer(rank_single_stores(basket, matrix, limit), cheapest_per_item(basket, matrix), plan)
