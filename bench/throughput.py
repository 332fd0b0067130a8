"""Throughput of the real app against a bare Flask route and the naive peer, under
identical load.

The servers run side by side (an idle sync worker costs no CPU), so the bare route can be
measured before *and* after the app targets: the spread between the two bare runs shows
how much the machine drifted during the run, and the ratios use their mean. The floor
(bench/floor.py) does GET /v1/key's guaranteed work with raw drivers: the best ratio any
implementation of those guarantees could reach here. The naive peer
(../shared/bench/naive_peer.py, served from its own folder over the same database)
answers the same three requests the way a tutorial would; each of our rows is measured
right before its peer row, so both see the same machine."""
import statistics
from contextlib import ExitStack, nullcontext
from pathlib import Path

import requests

from . import flood, loadgen, servers
from .catalogue import NAIVE_PEER, Catalogue, basket_items, basket_request
from .loadgen import Load

WORKERS = 2


def run(catalogue: Catalogue, directory: Path, env: dict, tool: str, connections: int,
        threads: int, seconds: float, warmup: float, progress) -> dict:
    key = {"X-API-Key": catalogue.key}
    basket = basket_request(basket_items(catalogue))
    app_log, bare_log = directory / "gunicorn-app.log", directory / "gunicorn-bare.log"
    app_env = {**env, "DATABASE_URL": catalogue.url}
    floor_env = {"FLOOR_DATABASE": str(catalogue.path),
                 "FLOOR_REDIS": env["RATELIMIT_STORAGE_URI"]}

    def measure(label: str, url: str, load: Load) -> dict:
        progress(f"  {label} ({tool}, {connections} connections, {seconds:g} s)")
        result = loadgen.run(tool, url, load, connections, threads, seconds, warmup)
        return {"label": label, **vars(result)}

    peer = NAIVE_PEER if NAIVE_PEER.is_file() else None
    json_post = {**key, "Content-Type": "application/json"}
    near_basket = basket_request(basket_items(catalogue), near=True)
    with ExitStack() as stack:
        bare_url, bare_master = stack.enter_context(
            servers.gunicorn("bench.bare:app", WORKERS, bare_log, ready_path="/"))
        app_url, app_master = stack.enter_context(
            servers.gunicorn("wsgi:app", WORKERS, app_log, app_env))
        floor_url, _ = stack.enter_context(servers.gunicorn(
            "bench.floor:app", WORKERS, directory / "gunicorn-floor.log", floor_env,
            ready_path="/"))
        peer_url, _ = stack.enter_context(servers.gunicorn(
            "naive_peer:app", WORKERS, directory / "gunicorn-peer.log",
            {"DATABASE_URL": catalogue.url}, ready_path="/v1/key", chdir=peer.parent)
            if peer else nullcontext((None, None)))
        # What the near basket sees: the stores of its answer, with their distances.
        sample = requests.post(app_url + "/v1/cheapest-stores", json=near_basket,
                               headers=key, timeout=30).json()
        near_sample = [(s["store"]["id"], s["store"]["distance_km"]) for s in sample["stores"]]
        lines_before = servers.log_lines(app_log)
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
            if row == "key":
                rows["key_floor"] = measure("floor: GET /v1/key, raw drivers",
                                            floor_url + "/v1/key", load)
            if row == "basket":
                rows["basket_near"] = measure("POST /v1/cheapest-stores near 10 km",
                                              app_url + path,
                                              Load("POST", near_basket, json_post))
            if peer_url:
                rows[f"peer_{row}"] = measure(f"naive peer: {label}", peer_url + path, load)
        with flood.bad_key_flood(app_url + "/v1/key") as flood_statuses:
            rows["key_under_flood"] = measure("GET /v1/key, bad-key flood", app_url +
                                              "/v1/key", Load(headers=key))
        bare_last = measure("bare Flask route (again)", bare_url + "/", Load())
        app_rss = servers.workers_peak_rss(app_master)
        bare_rss = servers.workers_peak_rss(bare_master)
        logged = servers.log_lines(app_log) - lines_before

    bare_rps = statistics.mean([bare_first["rps"], bare_last["rps"]])
    bare = {**bare_first, "label": "bare Flask route (mean of 2)", "rps": bare_rps,
            "p50_ms": statistics.mean([bare_first["p50_ms"], bare_last["p50_ms"]]),
            "p99_ms": statistics.mean([bare_first["p99_ms"], bare_last["p99_ms"]]),
            "errors": bare_first["errors"] + bare_last["errors"]}
    for name, row in rows.items():
        row["ratio"] = round(row["rps"] / bare_rps, 3)
        if peer and f"peer_{name}" in rows:  # ours over the peer's, same request
            row["vs_peer"] = round(row["rps"] / rows[f"peer_{name}"]["rps"], 3)
    rows["basket_near"]["vs_without_near"] = round(
        rows["basket_near"]["rps"] / rows["basket"]["rps"], 3)
    # What a flood of bad keys from another address leaves of good-key throughput.
    rows["key_under_flood"]["flood_statuses"] = dict(flood_statuses)
    rows["key_under_flood"]["vs_unflooded"] = round(
        rows["key_under_flood"]["rps"] / rows["key"]["rps"], 3)
    requests_sent = sum(row["requests"] for name, row in rows.items()
                        if name != "key_floor" and not name.startswith("peer_"))
    return {
        "settings": f"gunicorn {WORKERS} sync workers; " + (
            f"wrk -t{threads} -c{connections} -d{seconds:g}s" if tool == "wrk" else
            f"Python fallback, {connections} client threads, {seconds:g} s")
            + f" after a {warmup:g} s warm-up",
        "targets": {"bare": bare, **rows},
        "bare_runs_rps": [round(bare_first["rps"]), round(bare_last["rps"])],
        "bare_spread_pct": abs(bare_first["rps"] - bare_last["rps"]) / bare_rps * 100,
        "app_worker_peak_rss_mb": app_rss, "bare_worker_peak_rss_mb": bare_rss,
        "basket_items": basket["items"], "near": {k: near_basket[k] for k in ("near", "radius_km")},
        "near_answer_stores": near_sample, "peer": str(peer) if peer else None,
        "app_log_lines_during_load": logged, "app_requests_during_load": requests_sent,
    }
