"""Throughput of the real app against a bare Flask route and the naive peer, under
identical load and identical server settings.

One call of ``run`` is one table: one database (SQLite + memory://, or PostgreSQL + Redis),
one server configuration (the served one, gunicorn.conf.py, or plain sync workers), and
every connection count asked for. The servers run side by side for the whole table (an
idle worker costs no CPU), so the bare route can be measured before *and* after the app
targets at each connection count: the spread between the two shows how much the machine
drifted, and the ratios use their mean. The floor (bench/floor.py) does the guaranteed
work of GET /v1/key and GET /v1/items with raw drivers: the best ratio any implementation
of those guarantees could reach here. The naive peer (bench/naive_peer.py, over the same database) answers
the same three requests the way a tutorial would; each of our rows is measured right
before its peer row, so both see the same machine."""
import os
import statistics
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import requests

from . import flood, loadgen, servers
from .catalogue import PROJECT, Catalogue, basket_items, basket_request
from .loadgen import Load

WORKERS = 2


def server_env(directory: Path, name: str, served: bool, per_process_limits: bool) -> dict:
    """What every server of a table gets from the environment. Served: its access log in
    a file of its own (gunicorn.conf.py's default is stdout; either way one line is
    formatted and written per request), and RATELIMIT_ALLOW_PER_PROCESS where the limiter
    storage is per process (gunicorn.conf.py refuses several workers on memory://
    otherwise; the bare route, the floor and the peer have no shared limiter storage at
    all, the peer's flask-limiter is memory:// by its description)."""
    env = {"ACCESS_LOG": str(directory / f"access-{name}.log")} if served else {}
    if per_process_limits:
        env["RATELIMIT_ALLOW_PER_PROCESS"] = "true"
    return env


def prepare_peer(database_url: str) -> None:
    """Import the peer once before its workers start: it creates its usage table at
    import, and two workers doing that at once on PostgreSQL can collide."""
    subprocess.run([sys.executable, "-c", "import bench.naive_peer"], cwd=PROJECT, check=True,
                   env={**os.environ, "DATABASE_URL": database_url},
                   capture_output=True)


def run(catalogue: Catalogue, directory: Path, env: dict, tool: str, connections: list[int],
        threads: int, seconds: float, warmup: float, progress, served: bool,
        with_flood: bool = False) -> dict:
    key = {"X-API-Key": catalogue.key}
    basket = basket_request(basket_items(catalogue))
    mode = "served" if served else "sync"
    tag = f"{mode}-{catalogue.engine.lower()}"
    app_log = directory / f"gunicorn-app-{tag}.log"
    memory = env["RATELIMIT_STORAGE_URI"].startswith("memory")
    app_env = {**env, **server_env(directory, f"app-{tag}", served, memory),
               "DATABASE_URL": catalogue.url}
    floor_env = {**server_env(directory, f"floor-{tag}", served, True),
                 "FLOOR_DATABASE": str(catalogue.path) if catalogue.sqlite else catalogue.url,
                 "FLOOR_REDIS": env["RATELIMIT_STORAGE_URI"]}
    json_post = {**key, "Content-Type": "application/json"}
    near_basket = basket_request(basket_items(catalogue), near=True)
    prepare_peer(catalogue.url)
    tables = {}
    with ExitStack() as stack:
        def start(app, name, extra, ready="/"):
            return stack.enter_context(servers.gunicorn(
                app, WORKERS, directory / f"gunicorn-{name}-{tag}.log", extra,
                ready_path=ready, served=served))

        bare_url, bare_master = start("bench.bare:app", "bare",
                                      server_env(directory, f"bare-{tag}", served, True))
        app_url, app_master = stack.enter_context(servers.gunicorn(
            "wsgi:app", WORKERS, app_log, app_env, served=served))
        floor_url, _ = start("bench.floor:app", "floor", floor_env)
        peer_url, _ = start("bench.naive_peer:app", "peer",
                            {**server_env(directory, f"peer-{tag}", served, True),
                             "DATABASE_URL": catalogue.url}, ready="/v1/key")
        # What the near basket sees: the stores of its answer, with their distances.
        sample = requests.post(app_url + "/v1/cheapest-stores", json=near_basket,
                               headers=key, timeout=30).json()
        near_sample = [(s["store"]["id"], s["store"]["distance_km"]) for s in sample["stores"]]
        lines_before = servers.log_lines(app_log)
        requests_sent = 0
        for count in connections:
            def measure(label: str, url: str, load: Load, count=count) -> dict:
                progress(f"  [{mode}, {catalogue.engine}, -c{count}] {label}")
                result = loadgen.run(tool, url, load, count, threads, seconds, warmup)
                return {"label": label, **vars(result)}

            bare_first = measure("bare Flask route", bare_url + "/", Load())
            rows = {}
            # (row, label, path, load): ours, then the peer's, back to back.
            pairs = [("key", "GET /v1/key", "/v1/key", Load(headers=key)),
                     ("items", "GET /v1/items?per_page=1", "/v1/items?per_page=1",
                      Load(headers=key)),
                     ("basket", "POST /v1/cheapest-stores (10)", "/v1/cheapest-stores",
                      Load("POST", basket, json_post))]
            for row, label, path, load in pairs:
                rows[row] = measure(label, app_url + path, load)
                if row in ("key", "items"):  # what any implementation could reach
                    rows[f"{row}_floor"] = measure(f"floor: {label}, raw drivers",
                                                   floor_url + path, load)
                if row == "basket":
                    rows["basket_near"] = measure("POST /v1/cheapest-stores near 10 km",
                                                  app_url + path,
                                                  Load("POST", near_basket, json_post))
                rows[f"peer_{row}"] = measure(f"naive peer: {label}", peer_url + path, load)
            if with_flood and count == connections[0]:
                with flood.bad_key_flood(app_url + "/v1/key") as flood_statuses:
                    rows["key_under_flood"] = measure("GET /v1/key, bad-key flood", app_url +
                                                      "/v1/key", Load(headers=key))
                rows["key_under_flood"]["flood_statuses"] = dict(flood_statuses)
                rows["key_under_flood"]["vs_unflooded"] = round(
                    rows["key_under_flood"]["rps"] / rows["key"]["rps"], 3)
            bare_last = measure("bare Flask route (again)", bare_url + "/", Load())
            tables[count] = table(bare_first, bare_last, rows)
            requests_sent += sum(row["requests"] for name, row in rows.items()
                                 if not name.endswith("_floor") and not name.startswith("peer_"))
        app_rss = servers.workers_peak_rss(app_master)
        bare_rss = servers.workers_peak_rss(bare_master)
        logged = servers.log_lines(app_log) - lines_before

    threads_note = "gunicorn.conf.py (app.serving.ProblemWorker, gthread, 8 threads, " \
                   "access log)" if served else "sync workers (--config /dev/null)"
    return {
        "settings": f"{catalogue.engine} + {'memory://' if memory else 'Redis'}; gunicorn "
                    f"{WORKERS} workers, {threads_note}; " + (
                        f"wrk -t{threads} -d{seconds:g}s" if tool == "wrk" else
                        f"Python fallback, {seconds:g} s") + f" after a {warmup:g} s warm-up",
        "served": served, "engine": catalogue.engine, "database_url": catalogue.url,
        "limiter_storage": env["RATELIMIT_STORAGE_URI"],
        "per_process_limits_allowed": memory,
        "by_connections": {str(count): rows for count, rows in tables.items()},
        "app_worker_peak_rss_mb": app_rss, "bare_worker_peak_rss_mb": bare_rss,
        "basket_items": basket["items"], "near": {k: near_basket[k] for k in ("near", "radius_km")},
        "near_answer_stores": near_sample,
        "app_log_lines_during_load": logged, "app_requests_during_load": requests_sent,
    }


def table(bare_first: dict, bare_last: dict, rows: dict) -> dict:
    """The rows of one connection count, each with its ratio to the bare route (the mean
    of the two bare runs) and, where the peer answered the same request, to the peer."""
    bare_rps = statistics.mean([bare_first["rps"], bare_last["rps"]])
    bare = {**bare_first, "label": "bare Flask route (mean of 2)", "rps": bare_rps,
            "p50_ms": statistics.mean([bare_first["p50_ms"], bare_last["p50_ms"]]),
            "p99_ms": statistics.mean([bare_first["p99_ms"], bare_last["p99_ms"]]),
            "errors": bare_first["errors"] + bare_last["errors"],
            "runs_rps": [round(bare_first["rps"]), round(bare_last["rps"])],
            "spread_pct": round(abs(bare_first["rps"] - bare_last["rps"]) / bare_rps * 100, 1)}
    for name, row in rows.items():
        row["ratio"] = round(row["rps"] / bare_rps, 3)
        peer = rows.get(f"peer_{name.removesuffix('_floor')}")
        if peer:  # ours (or the floor's) over the peer's, same request
            row["vs_peer"] = round(row["rps"] / peer["rps"], 3)
    rows["basket_near"]["vs_without_near"] = round(
        rows["basket_near"]["rps"] / rows["basket"]["rps"], 3)
    return {"bare": bare, **rows}
