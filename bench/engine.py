"""The basket engine alone (app/market/basket.py and plan*.py): no HTTP, no database.

Synthetic offers shaped like the seed's (seed/prices.py): every store belongs to a chain
with a price level, carries only part of the catalogue, and has some promotions. Uniform
random prices would make the plan search look easier or harder than real data does: the
search prunes with the gap between cheap and expensive chains."""
import gc
import random
import sqlite3
import statistics
import time
from pathlib import Path

from app.market.basket import Offer, cheapest_stores

from .loadgen import percentile

CHAINS = 14                   # as many chains as the seed has
CHAIN_LEVELS = (0.85, 1.20)   # discounter .. premium price level
COVERAGE = (0.40, 0.90)       # share of the catalogue one store carries
NOISE = (0.95, 1.05)          # per store and item
PROMO_SHARE = 0.10            # ~10 % of prices are promotions ...
PROMO_DISCOUNT = (0.70, 0.90)  # ... at 70-90 % of the regular price


def synthetic_offers(rng: random.Random, stores: int, items: list[str],
                     chain_wide: bool = False) -> list[Offer]:
    """Seed-like: every store prices each item with its own +-5 % noise. Chain-wide:
    every store of a chain charges the chain's price (and runs its promotions), and
    stores differ only in which items they carry: many ties, many near-twins."""
    levels = [rng.uniform(*CHAIN_LEVELS) for _ in range(CHAINS)]
    base = {item: rng.randint(99, 1499) for item in items}  # US cents

    def price(item: str, level: float) -> tuple[int, int | None]:
        regular = round(base[item] * level * rng.uniform(*NOISE))
        if rng.random() < PROMO_SHARE:
            return round(regular * rng.uniform(*PROMO_DISCOUNT)), regular
        return regular, None

    chain_prices = {(c, item): price(item, level) for c, level in enumerate(levels)
                    for item in items} if chain_wide else {}
    offers = []
    for n in range(stores):
        store, chain, coverage = store_name(n), n % CHAINS, rng.uniform(*COVERAGE)
        for item in items:
            if rng.random() < coverage:
                offers.append(Offer(store, item, *(chain_prices[chain, item] if chain_wide
                                                   else price(item, levels[chain]))))
    return offers


def store_name(n: int) -> str:
    return f"store-{n:04d}"


def chains_of(stores: int) -> dict[str, str]:
    """Which chain each synthetic store belongs to: the app passes the same to the engine."""
    return {store_name(n): f"chain-{n % CHAINS}" for n in range(stores)}


def run(stores: int = 1000, basket_size: int = 20, max_stores: int = 3, instances: int = 7,
        repeats: int = 5) -> dict:
    """Several random instances of each family (seeds 1..instances), since instances
    differ in how hard they are to prove optimal, each timed a few times, since a busy
    machine adds noise. The target is on the p99 of all runs of a family, in CPU time of
    this process (time.process_time): on a machine other processes share, wall time
    also counts the waits for a core; both are reported."""
    chains = chains_of(stores)
    result = {"stores": stores, "basket_items": basket_size, "max_stores": max_stores}
    for family in ("seed-like", "chain-wide"):
        timings, walls, exact = [], [], []
        for seed in range(1, instances + 1):
            rng = random.Random(seed)
            items = [f"item-{i:02d}" for i in range(basket_size)]
            basket = {item: rng.randint(1, 3) for item in items}
            offers = synthetic_offers(rng, stores, items, chain_wide=family == "chain-wide")
            for _ in range(repeats):
                gc.collect()  # do not charge the garbage of building offers to the engine
                wall, cpu = time.perf_counter(), time.process_time()
                answer = cheapest_stores(basket, offers, limit=5, max_stores=max_stores,
                                         chains=chains)
                timings.append((time.process_time() - cpu) * 1000)
                walls.append((time.perf_counter() - wall) * 1000)
                exact.append(answer.plan.exact)
        result[family] = {
            "runs_ms": [round(t, 2) for t in timings],
            "median_ms": round(statistics.median(timings), 2),
            "p99_ms": round(percentile(sorted(timings), 99), 2),
            "max_ms": round(max(timings), 2),
            "wall_p99_ms": round(percentile(sorted(walls), 99), 2),
            "exact": all(exact), "exact_runs": sum(exact)}
    return result


def bench_basket_ms(database: Path, items: list[str], country: str = "US",
                    max_stores: int = 2, repeats: int = 50) -> float:
    """The engine's share of one POST /v1/cheapest-stores in the HTTP benchmark: the same
    basket's offers, read once from the bench database, then only ``cheapest_stores``
    timed (median ms). No request can be cheaper than this, whatever the framework."""
    with sqlite3.connect(database) as db:
        offers = [Offer(store, item, amount, regular) for store, item, amount, regular in
                  db.execute(f"""
            SELECT stores.slug, items.slug, prices.amount, prices.regular_amount
            FROM prices JOIN stores ON stores.id = prices.store_id
            JOIN items ON items.id = prices.item_id
            WHERE stores.country = ? AND items.slug IN ({','.join('?' * len(items))})""",
                                        (country, *items))]
        chains = dict(db.execute("SELECT stores.slug, chains.slug FROM stores "
                                 "JOIN chains ON chains.id = stores.chain_id"))
    basket = dict.fromkeys(items, 1)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        cheapest_stores(basket, offers, limit=5, max_stores=max_stores, chains=chains)
        timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 3)
