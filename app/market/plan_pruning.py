"""What lets the plan search (plan.py) skip most store sets (pure, standard library only):

- `undominated`: stores no best plan can use, dropped before the search;
- `greedy_plan`: a good first plan, whose cost the search must beat;
- `price_guess`: per-item prices whose bound on any plan's cost is nearly tight;
- `resaved`: the stores' savings re-measured once the search has chosen a store;
- `cheapest_first`: per item, the stores in price order (both above read prefixes of it);
- `cheaper`: the element-wise minimum every step is made of.

A cost vector holds one cost per basket item (a line total, or a penalty for an item
the store does not sell), in basket order.
"""
from __future__ import annotations

import heapq
from typing import Sequence

Vector = Sequence[int]                   # a cost per item, in basket order

# Subgradient rounds in price_guess. A round costs about as much as costing every store
# once, so a small search (tens of stores) is cheaper to run than a tight bound is to
# compute: rounds grow with the stores, one per STORES_PER_ROUND, within these bounds.
FEWEST_GUESS_ROUNDS, GUESS_ROUNDS, STORES_PER_ROUND = 3, 20, 10


def cheapest_first(vectors: list[Vector]) -> list[list[int]]:
    """Per item, the store indexes from cheapest to dearest (ties: lowest index). The
    stores that undercut a price are a prefix of this order, and usually a short one."""
    return [sorted(range(len(vectors)), key=column.__getitem__) for column in zip(*vectors)]


def resaved(savings: list[int], prices: Vector, added: Vector, vectors: list[Vector],
            orders: list[list[int]]) -> list[int]:
    """Every store's savings below min(prices, added), from its savings below `prices`.

    Only the items where `added` undercuts `prices` change, and only for the stores that
    undercut `prices` there too (a prefix of `orders`): each loses what it saved between
    the two prices.
    """
    savings = list(savings)
    for i, (high, low) in enumerate(zip(prices, added)):
        if low < high:
            for c in orders[i]:
                price = vectors[c][i]
                if price >= high:
                    break
                savings[c] -= high - (price if price > low else low)
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
    bits = [1 << j for j in range(len(vectors))]  # store j's bit, made once
    dominators = [bit - 1 for bit in bits]          # only a lower id can dominate
    for column in zip(*vectors):
        sellers: dict[int, int] = {}              # price -> the stores at that price
        for price, bit in zip(column, bits):
            sellers[price] = sellers.get(price, 0) | bit
        at_most, running = {}, 0                  # price -> the stores at or below it
        for price in sorted(sellers):
            running |= sellers[price]
            at_most[price] = running
        dominators = [mask & at_most[price] for mask, price in zip(dominators, column)]
    return [j for j, mask in enumerate(dominators) if not mask]


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
                rounds: int = GUESS_ROUNDS, orders: list[list[int]] | None = None,
                ) -> tuple[list[int], list[int]]:
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
    orders = orders or cheapest_first(vectors)
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
