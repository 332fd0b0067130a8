"""Where to buy a basket at the lowest price: the pure engine (standard library only).

Money is integer minor units throughout (cents, or yen), so every sum is exact.
The views turn database rows into `Offer`s, call `cheapest_stores`, format the `Answer`.
`cheapest_stores` combines three answers, each its own function: the best single stores
(rank_single_stores), each item's cheapest offer (cheapest_per_item) and, for
max_stores > 1, the best plan over several stores (best_plan).
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Iterable, NamedTuple, Sequence

# Work budget of the plan search: one unit per store set (or set of chain envelopes)
# whose cost it computes (a few microseconds each). Typical requests need tens to
# hundreds of units, 1,000 stores with chain-wide prices 2,000-50,000; the cap keeps a
# pathological one to a fraction of a second. The fixed setup (dominated stores, greedy
# start, price guess: a few passes over the stores) is not counted.
DEFAULT_WORK_BUDGET = 50_000
# Subgradient rounds in price_guess. A round costs about as much as costing every store
# once, so a small search (tens of stores) is cheaper to run than a tight bound is to
# compute: rounds grow with the stores, one per STORES_PER_ROUND, within these bounds.
FEWEST_GUESS_ROUNDS, GUESS_ROUNDS, STORES_PER_ROUND = 3, 20, 10


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


@dataclass
class Answer:
    stores: list[StoreBasket]
    per_item: list[BestOffer]
    plan: Plan | None


Basket = dict[str, int]                  # item -> quantity, in the order the client asked
Matrix = dict[str, dict[str, Offer]]     # store -> {item: offer}
Vector = Sequence[int]                   # a cost per item, in basket order


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
            matrix.setdefault(offer.store, {})[offer.item] = offer
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
    def key(store: str) -> tuple:
        row = matrix[store]
        return (-len(row), sum(o.unit_price * basket[i] for i, o in row.items()), store)

    return [store_basket(s, basket, matrix[s]) for s in heapq.nsmallest(limit, matrix, key=key)]


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
    # Cost vectors in store id order; then only the stores no other store dominates.
    names = sorted(matrix)
    vectors = [[row[i].unit_price * basket[i] if i in row else penalty for i in items]
               for row in map(matrix.__getitem__, names)]
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
    guess, savings = price_guess(vectors, max_stores, cur, best[0], rounds)

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

    class Partners:
        """Which groups h could, with a store of group g, still complete `cur` into a plan
        better than the best (judged by their envelopes); worked out per g on first use.
        `alone[g]`: what `cur` plus g's envelope costs (no store of g alone does better)."""

        def __init__(self, cur: list[int], size: int):
            nonlocal work
            self.cur, self.size, self.known = cur, size, {}
            self.lowered = [cheaper(cur, envelope) for envelope in envelopes]
            self.alone = [sum(low) for low in self.lowered]
            self.total = sum(cur)
            work += len(envelopes)

        def __getitem__(self, g: int) -> set[int]:
            nonlocal work
            if g not in self.known:
                low, partners = self.lowered[g], set()
                for h, envelope in enumerate(envelopes):
                    # h saves at most what it saves on its own: a cheap first test.
                    if (self.alone[g] - (self.total - self.alone[h]), self.size) > best[:2]:
                        continue
                    work += 1
                    if (sum(cheaper(low, envelope)), self.size) <= best[:2]:
                        partners.add(h)
                self.known[g] = partners
                if work > work_budget:
                    raise _OutOfWork
            return self.known[g]

    def search(candidates: list[int], savings: list[int], cur: list[int], chosen: list[int],
               allowed: set[int] | None = None) -> None:
        """Extend `chosen` by stores from `candidates` (by savings, biggest first), from
        the groups in `allowed` only (None: any)."""
        nonlocal best, work
        room, size = max_stores - len(chosen), len(chosen) + 1
        prices = cheaper(cur, guess)      # u, lowered where `chosen` already sells cheaper
        floor = sum(prices)               # what `chosen` costs measured against u
        viable = Partners(cur, size + 1) if room == 2 and grouped else None
        # Stores that are equivalent here, i.e. cost the same once combined with
        # `chosen` (same chain prices, and they differ only in items `chosen` already
        # sells cheaper), lead to plans of equal cost: below the first one expanded,
        # only a lower id can still win the tie-break.
        expanded: dict[tuple[int, ...], str] = {}
        for p, j in enumerate(candidates):
            # (cost, size) > best's: even a tie on cost would lose the tie-break.
            most = savings[j] if room == 1 else \
                sum(savings[c] for c in candidates[p:p + room])
            if (floor - most, size) > best[:2]:
                return
            if allowed is not None and group_of[j] not in allowed:
                continue
            if viable is not None and (viable.alone[group_of[j]], size) > best[:2] and \
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
                rest, rest_savings = candidates[p + 1:], savings
                if room > 2:
                    # The rest will branch again: re-measure their savings against the
                    # prices `chosen` + j reach, so that two stores saving on the same
                    # items (the same chain's prices) are not both counted in full.
                    rest_savings = resaved(savings, rest, prices, vectors[j], vectors)
                    rest.sort(key=lambda c: (-rest_savings[c], names[c]))
                search(rest, rest_savings, new, chosen + [j], partners)

    order = sorted(range(len(names)), key=lambda j: (-savings[j], names[j]))
    try:
        search(order, savings, [penalty] * len(items), [])
        exact = True
    except _OutOfWork:
        exact = False
    return make_plan(basket, matrix, best[2], max_stores, exact)


class _OutOfWork(Exception):
    pass


def resaved(savings: list[int], stores: list[int], prices: Vector, added: Vector,
            vectors: list[Vector]) -> list[int]:
    """Savings of `stores` below min(prices, added), from their savings below `prices`.

    Only the items where `added` undercuts `prices` change, and only for stores that
    undercut `prices` there too: a store then loses what it saved between the two prices.
    """
    lowered = [(i, high, low) for i, (high, low) in enumerate(zip(prices, added)) if low < high]
    savings = list(savings)
    for c in stores:
        vector = vectors[c]
        for i, high, low in lowered:
            if vector[i] < high:
                savings[c] -= high - (vector[i] if vector[i] > low else low)
    return savings


def undominated(vectors: list[Vector]) -> list[int]:
    """Indexes of the stores that no lower-indexed store dominates, in order.

    Store a dominates store b when a costs no more than b on every item and a's id is
    lower (vectors come in id order). No best plan uses b: swapping b for a (or just
    dropping b, if a is in the plan already) never costs more, and then wins the
    tie-break on fewer stores or lower ids. This removes chain stores that carry a subset
    of a sibling's items at the chain's identical prices, and exact twins (only the
    lowest id stays), which is what makes chain-wide pricing tractable.

    With bitmasks instead of comparing every pair: per item, the stores costing at most
    b's price there are one mask per distinct price (a running OR in price order); the
    stores that dominate b are the intersection of those masks over all items.
    """
    everyone = (1 << len(vectors)) - 1
    dominators = [everyone] * len(vectors)
    for column in zip(*vectors):
        sellers: dict[int, int] = {}              # price -> the stores at that price
        for j, price in enumerate(column):
            sellers[price] = sellers.get(price, 0) | 1 << j
        at_most, running = {}, 0                  # price -> the stores at or below it
        for price in sorted(sellers):
            running |= sellers[price]
            at_most[price] = running
        dominators = [mask & at_most[price] for mask, price in zip(dominators, column)]
    return [j for j, mask in enumerate(dominators) if not mask & ((1 << j) - 1)]


def cheaper(a: Vector, b: Vector) -> list[int]:
    """Element-wise minimum (this comprehension is about twice as fast as map(min, a, b))."""
    return [x if x < y else y for x, y in zip(a, b)]


def greedy_plan(vectors: list[Vector], k: int) -> tuple[list[int], list[int]]:
    """Up to k times, add the store that lowers the cost most (tie: lowest index).

    Returns the plan's cost vector and the chosen indexes.
    """
    costs = [sum(v) for v in vectors]         # on its own, a store costs its own vector
    cur: Vector = []
    chosen: list[int] = []
    while True:
        j = costs.index(min(costs))
        if chosen and costs[j] >= sum(cur):
            return cur, chosen                # no store helps any more
        cur = cheaper(cur, vectors[j]) if chosen else vectors[j]
        chosen.append(j)
        if len(chosen) == k:
            return cur, chosen
        costs = [sum(cheaper(cur, v)) for v in vectors]


def price_guess(vectors: list[Vector], k: int, start: Vector, target: int,
                rounds: int = GUESS_ROUNDS) -> tuple[list[int], list[int]]:
    """Per-item prices u that make the bound sum(u) - (the k largest savings) high.

    Subgradient ascent from `start`, a known plan's prices (costing `target`). An item
    that none of the k best stores undercuts is priced too low: raise it. One that two
    or more undercut has its saving counted twice: lower it. The step is sized by the
    gap between the bound and `target`, halved whenever two rounds bring no progress,
    and we keep the best u seen. Returns u and every store's savings below it.
    """
    # Per item: every store's price, and the stores cheapest first. Only a short
    # prefix of that order is ever below u, which keeps each round cheap.
    columns = list(zip(*vectors))
    orders = [sorted(range(len(vectors)), key=column.__getitem__) for column in columns]
    # No plan pays more for an item than its dearest entry (the penalty if some store
    # lacks it); above that every store would "undercut" u, which only weakens the bound.
    caps = [column[order[-1]] for column, order in zip(columns, orders)]

    def savings_at(u: list[int]) -> list[int]:
        savings = [0] * len(vectors)
        for ui, column, order in zip(u, columns, orders):
            for j in order:
                if column[j] >= ui:
                    break
                savings[j] += ui - column[j]
        return savings

    u, best, step, stalled = list(start), None, 1.0, 0
    for _ in range(rounds):
        savings = savings_at(u)
        top = heapq.nlargest(k, range(len(vectors)), key=savings.__getitem__)
        bound = sum(u) - sum(savings[j] for j in top)
        if best is None or bound > best[0]:
            best, stalled = (bound, u, savings), 0
        else:
            stalled += 1
            if stalled == 2:          # overshooting: take smaller steps
                step, stalled = step / 2, 0
        slope = [1 - sum(vectors[j][i] < ui for j in top) for i, ui in enumerate(u)]
        norm = sum(s * s for s in slope)
        if norm == 0:
            break         # each item undercut exactly once: this u cannot be improved
        size = step * max(target - bound, 1) / norm
        u = [min(cap, round(x + size * s)) for x, s, cap in zip(u, slope, caps)]
    return best[1], best[2]


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
