"""The cheapest-stores engine (app/market/basket.py): hand-written cases, then properties
checked against brute force on many small random instances. No Flask, no database."""
import random
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.market import plan
from app.market.basket import (
    BestOffer,
    Line,
    Offer,
    build_matrix,
    cheapest_per_item,
    cheapest_stores,
    lower_bound,
    rank_single_stores,
)
from app.market.plan import best_plan, make_plan
from app.market.plan_pruning import cheaper, cheapest_first, greedy_plan, price_guess, resaved


@pytest.fixture(autouse=True, params=["dominated stores dropped", "by size"])
def dominance(request, monkeypatch):
    """Every test twice: with the plan search dropping dominated stores however few
    there are, and as served (only from plan.DROP_DOMINATED_FROM stores on)."""
    if request.param == "dominated stores dropped":
        monkeypatch.setattr(plan, "DROP_DOMINATED_FROM", 0)


def O(store, item, price, regular=None):
    return Offer(store=store, item=item, unit_price=price, regular_price=regular)


def stops(plan):
    """A plan's stops as {store: (items, subtotal)}, easy to compare."""
    return {stop.store: (stop.items, stop.subtotal) for stop in plan.stores}


# --- Single stores -------------------------------------------------------------------

def test_full_baskets_first_by_total_then_partial_by_items_found_then_total():
    basket = {"milk": 1, "eggs": 1, "bread": 1}
    offers = [
        O("full-dear", "milk", 300), O("full-dear", "eggs", 300), O("full-dear", "bread", 300),
        O("full-cheap", "milk", 200), O("full-cheap", "eggs", 200), O("full-cheap", "bread", 200),
        O("two-items", "milk", 1), O("two-items", "eggs", 1),       # cheap, but partial
        O("one-cheap", "milk", 1),
        O("one-dear", "bread", 50),
    ]
    answer = cheapest_stores(basket, offers, limit=10)
    assert [s.store for s in answer.stores] == [
        "full-cheap", "full-dear", "two-items", "one-cheap", "one-dear"]
    assert [s.items_found for s in answer.stores] == [3, 3, 2, 1, 1]
    assert [s.total for s in answer.stores] == [600, 900, 2, 1, 50]


def test_ties_break_by_store_id_and_limit_keeps_the_best():
    basket = {"milk": 1}
    offers = [O(store, "milk", 100) for store in ["c", "a", "d", "b"]]
    answer = cheapest_stores(basket, offers, limit=3)
    assert [s.store for s in answer.stores] == ["a", "b", "c"]
    matrix = build_matrix(basket, offers)
    assert [s.store for s in rank_single_stores(basket, matrix, 1)] == ["a"]
    assert rank_single_stores(basket, matrix, 0) == []


def test_lines_missing_and_quantities_in_basket_order():
    basket = {"eggs": 2, "milk": 3, "salt": 1}           # the client's order
    offers = [O("s", "milk", 120), O("s", "eggs", 250, 300)]
    (store,) = cheapest_stores(basket, offers).stores
    assert store.lines == [Line("eggs", 2, 250, 300, 500), Line("milk", 3, 120, None, 360)]
    assert store.missing == ["salt"]
    assert (store.total, store.items_found) == (860, 2)


def test_offers_for_items_outside_the_basket_are_ignored():
    answer = cheapest_stores({"milk": 1}, [O("a", "milk", 100), O("b", "caviar", 1)])
    assert [s.store for s in answer.stores] == ["a"]
    assert build_matrix({"milk": 1}, [O("b", "caviar", 1)]) == {}


def test_empty_offers():
    answer = cheapest_stores({"milk": 1, "eggs": 2}, [], max_stores=3)
    assert answer.stores == [] and answer.per_item == []
    assert answer.plan.stores == [] and answer.plan.total == 0
    assert answer.plan.missing == ["milk", "eggs"] and answer.plan.exact


# --- Cheapest per item ---------------------------------------------------------------

def test_per_item_cheapest_offer_tie_lowest_store_and_promotions_carried():
    basket = {"milk": 2, "salt": 1, "eggs": 1}
    offers = [O("b", "milk", 90, 120), O("a", "milk", 90), O("c", "milk", 95),
              O("c", "eggs", 300), O("a", "eggs", 310, 350)]
    per_item = cheapest_per_item(basket, build_matrix(basket, offers))
    assert per_item == [BestOffer("milk", "a", 90, None), BestOffer("eggs", "c", 300, None)]
    assert lower_bound(basket, per_item) == 2 * 90 + 300
    # a promotion that wins keeps its regular price
    assert cheapest_stores({"eggs": 1}, offers).per_item == [BestOffer("eggs", "c", 300, None)]
    assert cheapest_stores({"milk": 1}, [O("b", "milk", 80, 120), O("a", "milk", 90)]).per_item \
        == [BestOffer("milk", "b", 80, 120)]


# --- Plans ---------------------------------------------------------------------------

SPLIT = [  # each store is cheapest on a different part of the basket
    O("a", "milk", 100), O("a", "eggs", 300), O("a", "bread", 300), O("a", "jam", 300),
    O("b", "milk", 300), O("b", "eggs", 100), O("b", "bread", 300), O("b", "jam", 300),
    O("c", "milk", 300), O("c", "eggs", 300), O("c", "bread", 100), O("c", "jam", 150, 200),
]
SPLIT_BASKET = {"jam": 1, "milk": 2, "eggs": 1, "bread": 1}


def test_no_plan_for_one_store():
    assert cheapest_stores(SPLIT_BASKET, SPLIT).plan is None


def test_plan_with_two_stores():
    plan = cheapest_stores(SPLIT_BASKET, SPLIT, max_stores=2).plan
    # a+b costs 900, b+c 950, a+c 750. Eggs cost 300 at a and at c: the lower id wins.
    assert stops(plan) == {"a": (["milk", "eggs"], 500), "c": (["jam", "bread"], 250)}
    assert (plan.total, plan.max_stores, plan.exact, plan.missing) == (750, 2, True, [])


def test_plan_with_three_stores():
    plan = cheapest_stores(SPLIT_BASKET, SPLIT, max_stores=3).plan
    assert stops(plan) == {"a": (["milk"], 200), "b": (["eggs"], 100),
                           "c": (["jam", "bread"], 250)}
    assert [stop.store for stop in plan.stores] == ["a", "b", "c"]       # by store id
    per_item = cheapest_stores(SPLIT_BASKET, SPLIT).per_item
    assert plan.total == 550 == lower_bound(SPLIT_BASKET, per_item)      # can't do better


def test_plan_uses_fewer_stores_when_they_suffice():
    offers = SPLIT + [O("z", item, 50) for item in SPLIT_BASKET]
    plan = cheapest_stores(SPLIT_BASKET, offers, max_stores=3).plan
    assert stops(plan) == {"z": (["jam", "milk", "eggs", "bread"], 250)}


def test_plan_tie_prefers_fewer_stores_then_lowest_ids():
    basket = {"milk": 1, "eggs": 1}
    offers = [O("d", "milk", 1), O("d", "eggs", 2), O("c", "milk", 1), O("c", "eggs", 2),
              O("a", "milk", 1), O("b", "eggs", 2)]
    # {c}, {d}, {a, b}, {a, c}... all cost 3: one store beats two, then "c" < "d"
    # (even though the tuple ("a", "b") sorts before ("c",)).
    plan = cheapest_stores(basket, offers, max_stores=2).plan
    assert stops(plan) == {"c": (["milk", "eggs"], 3)}


def test_identical_stores_lowest_id_wins():
    # Chain-wide pricing: many stores selling the same items at the same prices.
    basket = {"milk": 1, "eggs": 1, "jam": 1}
    offers = [O(f"chain-{n}", item, 100) for n in (5, 2, 9) for item in ("milk", "eggs")]
    offers += [O(f"deli-{n}", "jam", 300) for n in (4, 1)] + [O("deli-3", "milk", 1)]
    plan = cheapest_stores(basket, offers, max_stores=3).plan
    assert stops(plan) == {"chain-2": (["eggs"], 100), "deli-1": (["jam"], 300),
                           "deli-3": (["milk"], 1)}


COVERAGE_BASKET = {"milk": 1, "eggs": 1, "bread": 1, "caviar": 1}   # caviar: sold nowhere
COVERAGE = [O("a", "milk", 100), O("b", "eggs", 100), O("c", "bread", 50), O("d", "milk", 1)]


def test_plan_covers_more_items_before_saving_money():
    offers = COVERAGE + [O("e", "milk", 500), O("e", "eggs", 500)]
    plan = cheapest_stores(COVERAGE_BASKET, offers, max_stores=2).plan
    assert stops(plan) == {"c": (["bread"], 50), "e": (["milk", "eggs"], 1000)}
    assert plan.missing == ["caviar"] and plan.total == 1050


def test_plan_covers_most_items_first_when_stores_are_too_few():
    plan = cheapest_stores(COVERAGE_BASKET, COVERAGE, max_stores=2).plan
    # Three items are offered, one per store: two stores cover two items at best, and
    # the cheapest such pair is {c, d}. The plan reports what it leaves out.
    assert stops(plan) == {"c": (["bread"], 50), "d": (["milk"], 1)}
    assert plan.missing == ["eggs", "caviar"]
    assert plan.total == 51 and plan.exact


def test_tiny_work_budget_gives_an_inexact_but_valid_plan():
    basket, offers = benchmark_like(items=8, stores=60, seed=7)
    exact = cheapest_stores(basket, offers, max_stores=3).plan
    plan = cheapest_stores(basket, offers, max_stores=3, work_budget=1).plan
    assert exact.exact and not plan.exact
    assert_valid_plan(basket, build_matrix(basket, offers), plan, 3)
    assert plan.missing == [] and plan.total >= exact.total


def benchmark_like(items, stores, seed):
    """A small version of the benchmark's shops: price levels, gaps and promotions."""
    rng = random.Random(seed)
    base = {f"item{i}": rng.randint(100, 900) for i in range(items)}
    basket = {item: rng.randint(1, 3) for item in base}
    offers = []
    for s in range(stores):
        level, cover = rng.uniform(0.85, 1.2), rng.uniform(0.4, 0.9)
        for item, price in base.items():
            if rng.random() < cover:
                regular = round(price * level * rng.uniform(0.97, 1.03))
                promo = rng.random() < 0.1
                offers.append(O(f"store{s:03d}", item,
                                round(regular * rng.uniform(0.7, 0.9)) if promo else regular,
                                regular if promo else None))
    return basket, offers


@pytest.mark.parametrize("seed", range(6))
def test_plan_on_benchmark_like_shops_matches_brute_force(seed):
    basket, offers = benchmark_like(items=8, stores=25, seed=seed)
    for max_stores in (2, 3):
        plan = cheapest_stores(basket, offers, max_stores=max_stores).plan
        stores, total = brute_plan(basket, offers, max_stores)
        assert plan.exact and ([s.store for s in plan.stores], plan.total) == (list(stores), total)


# --- Helpers -------------------------------------------------------------------------

def test_cheaper_and_greedy_plan():
    assert cheaper([3, 1, 5], [2, 4, 5]) == [2, 1, 5]
    vectors = [[5, 5, 9], [1, 9, 9], [9, 1, 9], [9, 9, 1]]      # all cost 19 alone
    assert greedy_plan(vectors, 1) == ([5, 5, 9], [0])            # tie: lowest index
    assert greedy_plan(vectors, 3) == ([1, 5, 1], [0, 3, 1])      # 3 saves 8, then 1 saves 4
    assert greedy_plan([[1, 1], [2, 2]], 3) == ([1, 1], [0])     # stops when nothing helps


def test_make_plan_drops_stores_that_add_nothing():
    basket = {"milk": 1}
    matrix = build_matrix(basket, [O("a", "milk", 1), O("b", "milk", 1)])
    assert stops(make_plan(basket, matrix, ["b", "a"], 2, True)) == {"a": (["milk"], 1)}


# --- Properties against brute force --------------------------------------------------

@st.composite
def instances(draw):
    """Up to 8 stores and 6 items, prices 1-4 so ties are everywhere, random coverage.

    Items and store ids come in random order, so neither the basket order nor the
    order offers arrive in lines up with the ids.
    """
    items = draw(st.permutations([f"i{n}" for n in range(draw(st.integers(1, 6)))]))
    stores = draw(st.permutations([f"s{n}" for n in range(8)]))[:draw(st.integers(1, 8))]
    quantities = draw(st.lists(st.integers(1, 3), min_size=len(items), max_size=len(items)))
    sparse = draw(st.integers(0, 11))     # from dense shops to very patchy ones
    cells = len(items) * len(stores)
    codes = iter(draw(st.lists(st.integers(0, 11), min_size=cells, max_size=cells)))
    offers = []
    for store in stores:
        for item in items:
            code = next(codes)
            one_item_shop = sparse == 11      # a few of these cannot cover the basket
            if one_item_shop:
                item = items[code % len(items)]
            if code >= sparse or one_item_shop:
                price = 1 + code % 4
                offers.append(O(store, item, price, price + 2 if code % 3 == 0 else None))
            if one_item_shop:
                break
    return dict(zip(items, quantities)), offers


def brute_ranking(basket, offers, limit):
    matrix = build_matrix(basket, offers)
    total = {s: sum(o.unit_price * basket[i] for i, o in row.items()) for s, row in matrix.items()}
    full = sorted((s for s in matrix if len(matrix[s]) == len(basket)),
                  key=lambda s: (total[s], s))
    partial = sorted((s for s in matrix if len(matrix[s]) < len(basket)),
                     key=lambda s: (-len(matrix[s]), total[s], s))
    return [(s, total[s], len(matrix[s])) for s in (full + partial)[:limit]]


def brute_plan(basket, offers, max_stores):
    """Try every store set of size 0..max_stores; return the best (stores, total).

    The documented order: most items covered, then lowest total, then fewest stores,
    then the smallest sorted tuple of store ids.
    """
    matrix = build_matrix(basket, offers)

    def price(combo, item):
        return min(matrix[s][item].unit_price for s in combo if item in matrix[s])

    candidates = []
    for size in range(max_stores + 1):
        for combo in combinations(sorted(matrix), size):
            covered = [i for i in basket if any(i in matrix[s] for s in combo)]
            total = sum(price(combo, i) * basket[i] for i in covered)
            candidates.append((-len(covered), total, size, combo))
    _, total, _, combo = min(candidates)
    return combo, total


def assert_valid_plan(basket, matrix, plan, max_stores):
    """Each item bought once, at the cheapest chosen store, and every sum right."""
    chosen = [stop.store for stop in plan.stores]
    assert chosen == sorted(chosen) and len(chosen) <= max_stores
    bought = [item for stop in plan.stores for item in stop.items]
    assert sorted(bought + plan.missing) == sorted(basket) and len(set(bought)) == len(bought)
    for stop in plan.stores:
        assert stop.items and stop.items == [i for i in basket if i in stop.items]
        for item in stop.items:
            best = min((matrix[s][item].unit_price, s) for s in chosen if item in matrix[s])
            assert best == (matrix[stop.store][item].unit_price, stop.store)
        assert stop.subtotal == sum(matrix[stop.store][i].unit_price * basket[i]
                                    for i in stop.items)
    for item in plan.missing:
        assert not any(item in matrix[s] for s in chosen)
    assert plan.missing == [i for i in basket if i in plan.missing]
    assert plan.total == sum(stop.subtotal for stop in plan.stores)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(instances(), st.integers(1, 9))
def test_ranking_and_per_item_match_brute_force(instance, limit):
    basket, offers = instance
    answer = cheapest_stores(basket, offers, limit=limit)
    assert [(s.store, s.total, s.items_found) for s in answer.stores] \
        == brute_ranking(basket, offers, limit)
    for s in answer.stores:
        assert [line.item for line in s.lines] == [i for i in basket if i not in s.missing]
        assert all(line.line_total == line.unit_price * basket[line.item] for line in s.lines)
        assert s.total == sum(line.line_total for line in s.lines)

    expected = []
    for item in basket:
        sellers = [o for o in offers if o.item == item]
        if sellers:
            o = min(sellers, key=lambda o: (o.unit_price, o.store))
            expected.append(BestOffer(item, o.store, o.unit_price, o.regular_price))
    assert answer.per_item == expected


@settings(max_examples=300, derandomize=True, deadline=None)
@given(instances())
def test_two_and_three_store_plans_match_brute_force(instance):
    basket, offers = instance
    for max_stores in (2, 3):
        plan = cheapest_stores(basket, offers, max_stores=max_stores).plan
        stores, total = brute_plan(basket, offers, max_stores)
        assert plan.exact and plan.max_stores == max_stores
        assert ([s.store for s in plan.stores], plan.total) == (list(stores), total)
        assert_valid_plan(basket, build_matrix(basket, offers), plan, max_stores)


@settings(max_examples=100, derandomize=True, deadline=None)
@given(instances(), st.integers(2, 3), st.integers(0, 3))
def test_any_work_budget_gives_a_valid_plan_and_exact_means_optimal(instance, k, budget):
    basket, offers = instance
    matrix = build_matrix(basket, offers)
    plan = best_plan(basket, matrix, k, work_budget=budget)
    assert_valid_plan(basket, matrix, plan, k)
    stores, total = brute_plan(basket, offers, k)
    if plan.exact:
        assert ([s.store for s in plan.stores], plan.total) == (list(stores), total)


@settings(max_examples=100, derandomize=True, deadline=None)
@given(instances(), st.integers(2, 3))
def test_price_guess_bound_holds_for_every_store_set(instance, k):
    # The lemma the search relies on: cost(S) >= sum(u) - sum of S's savings below u.
    basket, offers = instance
    matrix = build_matrix(basket, offers)
    items = [i for i in basket if any(i in row for row in matrix.values())]
    if not items:
        return
    penalty = 10_000
    vectors = [[row[i].unit_price * basket[i] if i in row else penalty for i in items]
               for row in matrix.values()]
    start, _ = greedy_plan(vectors, k)
    u, savings = price_guess(vectors, k, start, sum(start))
    assert savings == [sum(max(0, a - b) for a, b in zip(u, v)) for v in vectors]
    for size in range(1, k + 1):
        for combo in combinations(range(len(vectors)), size):
            cost = sum(min(col) for col in zip(*(vectors[j] for j in combo)))
            assert cost >= sum(u) - sum(savings[j] for j in combo)


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.lists(st.lists(st.integers(0, 20), min_size=4, max_size=4), min_size=1, max_size=12),
       st.lists(st.integers(0, 20), min_size=4, max_size=4),
       st.lists(st.integers(0, 20), min_size=4, max_size=4))
def test_resaved_equals_savings_measured_afresh(vectors, prices, added):
    # The search re-measures savings from the price-ordered prefixes only: it must agree
    # with measuring every store below min(prices, added) from scratch.
    def savings_below(u):
        return [sum(max(0, a - b) for a, b in zip(u, v)) for v in vectors]
    assert resaved(savings_below(prices), prices, added, vectors, cheapest_first(vectors)) \
        == savings_below(cheaper(prices, added))


# --- Chain-wide prices: dominated, equivalent and grouped stores ---------------------

def chain_wide(seed, stores, items, chains=4, coverage=(0.4, 0.9)):
    """Every store of a chain charges the chain's price for an item; stores differ only
    in which items they carry. Many plans then tie, and many stores nearly coincide."""
    rng = random.Random(seed)
    names = [f"i{n:02d}" for n in range(items)]
    price = {(c, i): rng.randint(100, 130) for c in range(chains) for i in names}
    offers = []
    for s in range(stores):
        cover = rng.uniform(*coverage)
        offers += [O(f"s{s:04d}", i, price[s % chains, i]) for i in names if rng.random() < cover]
    basket = {i: rng.randint(1, 3) for i in names}
    return basket, offers, {f"s{s:04d}": f"chain{s % chains}" for s in range(stores)}


def test_undominated_keeps_the_lowest_id_of_twins_and_drops_subsets():
    from app.market.plan_pruning import undominated
    vectors = [[5, 9], [5, 9], [4, 9], [5, 8], [9, 9], [3, 3]]
    # 1 is 0's twin, 4 is beaten by 0; 2 and 3 are each better somewhere; 5 beats all
    # but comes last, and a dominator must have a lower id.
    assert undominated(vectors) == [0, 2, 3, 5]
    assert undominated([[1]]) == [0]


@pytest.mark.parametrize("seed", range(4))
def test_chain_wide_prices_match_brute_force(seed):
    basket, offers, chains = chain_wide(seed, stores=18, items=6)
    for max_stores in (2, 3):
        expected = brute_plan(basket, offers, max_stores)
        for grouping in (None, chains):
            plan = cheapest_stores(basket, offers, max_stores=max_stores, chains=grouping).plan
            assert plan.exact
            assert ([s.store for s in plan.stores], plan.total) == (list(expected[0]),
                                                                    expected[1])


@pytest.mark.parametrize("seed", range(3))
def test_chain_wide_three_store_plans_over_1000_stores_are_proven_exact(seed):
    """The issue's case: identical chain prices must not exhaust the work budget."""
    rng = random.Random(seed)
    items = [f"item-{n:02d}" for n in range(20)]
    level = [rng.uniform(0.85, 1.2) for _ in range(14)]
    base = {i: rng.randint(99, 1499) for i in items}
    price = {(c, i): round(base[i] * level[c] * rng.uniform(0.95, 1.05))
             for c in range(14) for i in items}
    offers = []
    for s in range(1000):
        cover = rng.uniform(0.4, 0.9)
        offers += [O(f"store-{s:04d}", i, price[s % 14, i]) for i in items
                   if rng.random() < cover]
    basket = {i: rng.randint(1, 3) for i in items}
    chains = {f"store-{s:04d}": f"chain-{s % 14}" for s in range(1000)}
    plan = cheapest_stores(basket, offers, max_stores=3, chains=chains).plan
    assert plan.exact and plan.missing == []
    assert_valid_plan(basket, build_matrix(basket, offers), plan, 3)


@st.composite
def chain_instances(draw):
    """Small chain-wide instances: up to 3 chains, up to 9 stores, prices 1-3."""
    items = [f"i{n}" for n in range(draw(st.integers(1, 5)))]
    chains = draw(st.integers(1, 3))
    price = {(c, i): draw(st.integers(1, 3)) for c in range(chains) for i in items}
    stores = draw(st.integers(1, 9))
    offers = [O(f"s{s}", i, price[s % chains, i]) for s in range(stores) for i in items
              if draw(st.booleans())]
    quantities = draw(st.lists(st.integers(1, 3), min_size=len(items), max_size=len(items)))
    return dict(zip(items, quantities)), offers, {f"s{s}": s % chains for s in range(stores)}


@settings(max_examples=300, derandomize=True, deadline=None)
@given(chain_instances())
def test_chain_wide_plans_match_brute_force(instance):
    basket, offers, chains = instance
    for max_stores in (2, 3):
        stores, total = brute_plan(basket, offers, max_stores)
        for grouping in (None, chains):
            plan = cheapest_stores(basket, offers, max_stores=max_stores, chains=grouping).plan
            assert plan.exact
            assert ([s.store for s in plan.stores], plan.total) == (list(stores), total)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(instances(), st.data())
def test_near_me_baskets_are_planned_over_the_stores_in_reach_only(instance, data):
    """Near me is the same engine over the offers of the stores in the radius: the plan
    equals brute force over that subset and never uses a store outside it."""
    basket, offers = instance
    stores = sorted({o.store for o in offers})
    if not stores:
        return
    in_reach = set(data.draw(st.lists(st.sampled_from(stores), unique=True)))
    nearby = [o for o in offers if o.store in in_reach]
    for max_stores in (2, 3):
        plan = cheapest_stores(basket, nearby, max_stores=max_stores).plan
        assert {s.store for s in plan.stores} <= in_reach and plan.exact
        expected = brute_plan(basket, nearby, max_stores)
        assert ([s.store for s in plan.stores], plan.total) == (list(expected[0]), expected[1])
