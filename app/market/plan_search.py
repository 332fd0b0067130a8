"""Step 3 of the best plan (plan.py): branch and bound over the stores (pure, standard
library only), and the rules it ranks plans by (plan_key).

The stores are tried by their savings below step 2's price guess, biggest first, and a
branch stops as soon as even its best possible savings cannot beat the best plan found.
Stores of one chain are judged together first, by their envelope: when it cannot help,
none of them can. Every store set costed is one unit of the work budget; when it runs
out, the best plan found so far is the answer, marked not exact.
"""
from __future__ import annotations

from typing import Iterable

from .plan_pruning import cheaper, cheapest_first, resaved


def plan_key(cost: int, stores: Iterable[str]) -> tuple:
    """Order of candidate plans, best first: rules 2-4 of plan.py (the tests' brute force
    uses the same rule)."""
    ids = tuple(sorted(stores))
    return (cost, len(ids), ids)


def search_plans(vectors: list[list[int]], names: list[str], chains: dict[str, str] | None,
                 max_stores: int, guess: list[int], savings: list[int],
                 orders: list[list[int]], best: tuple, work_budget: int,
                 penalty: int) -> tuple[tuple, bool]:
    """The best plan's key (plan_key) with at most `max_stores` of the stores `names`
    (cost `vectors`, in id order), and whether the search finished within `work_budget`
    units; if not, the best found so far. `best` is the plan to beat (the greedy one),
    `guess` and `savings` step 2's price guess and each store's savings below it,
    `orders` each item's stores cheapest first (cheapest_first)."""
    # The stores are sorted by savings, biggest first. A plan that adds stores from
    # position p on saves at most the next few savings in the list, a bound that only
    # gets worse as p grows: once it loses to the best plan, stop.
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
        search(order, savings, [penalty] * len(guess), [])
    except _OutOfWork:
        return best, False
    return best, True


class _OutOfWork(Exception):
    pass
