"""Does a basket query slow down as the catalogue grows?

The same 10-item POST /v1/cheapest-stores, sent one at a time through a requests.Session
to a 1-worker gunicorn per catalogue: a small and a large one with the same stores. With
the (item_id, store_id) index the query reads only the basket's price rows, so its
latency should barely depend on the number of items.

Both servers run at once and the requests alternate small, large, small, ...: if the
machine gets busier halfway through, both sizes feel it, and the ratio stays fair."""
import contextlib
import statistics
import time
from pathlib import Path

import requests

from . import servers
from .catalogue import Catalogue, basket_items, basket_request
from .loadgen import percentile

WARMUP = 10  # discarded requests per size: they fill SQLite's page cache and lazy imports


def post(session: requests.Session, url: str, body: dict, key: str) -> tuple[float, dict]:
    """One request; returns (milliseconds, answer)."""
    started = time.perf_counter()
    response = session.post(url, json=body, headers={"X-API-Key": key}, timeout=60)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"POST /v1/cheapest-stores answered {response.status_code}: "
                           f"{response.text[:500]}")
    return elapsed, response.json()


def run(small: Catalogue, large: Catalogue, directory: Path, env: dict,
        count: int = 200) -> dict:
    catalogues = {"small": small, "large": large}
    timings = {size: [] for size in catalogues}
    answers, rss = {}, {}
    with contextlib.ExitStack() as stack:
        targets = {}
        for size, catalogue in catalogues.items():
            log = directory / f"gunicorn-growth-{size}.log"
            base_url, master = stack.enter_context(servers.gunicorn(
                "wsgi:app", 1, log, {**env, "DATABASE_URL": catalogue.url}))
            body = basket_request(basket_items(catalogue))
            targets[size] = (base_url + "/v1/cheapest-stores", body, catalogue.key, master)
        session = stack.enter_context(requests.Session())
        for n in range(WARMUP + count):
            for size, (url, body, key, _) in targets.items():
                elapsed, answers[size] = post(session, url, body, key)
                if n >= WARMUP:
                    timings[size].append(elapsed)
        for size, (*_, master) in targets.items():
            rss[size] = max(servers.workers_peak_rss(master))

    def summary(size: str) -> dict:
        catalogue, ordered = catalogues[size], sorted(timings[size])
        plan = answers[size]["plan"]
        return {"stores": catalogue.stores, "items": catalogue.items,
                "prices": catalogue.prices, "seed_seconds": round(catalogue.seed_seconds, 1),
                "requests": count, "median_ms": round(statistics.median(ordered), 2),
                "p90_ms": round(percentile(ordered, 90), 2),
                "plan_exact": bool(plan and plan["exact"]), "worker_peak_rss_mb": rss[size]}

    rows = {size: summary(size) for size in catalogues}
    return {"method": f"{count} sequential requests per size, alternating between two "
                      "1-worker gunicorns, one requests.Session",
            **rows, "ratio": round(rows["large"]["median_ms"] / rows["small"]["median_ms"], 2)}
