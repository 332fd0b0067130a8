"""Throughput of the real app against a bare Flask route, under identical load.

The servers run side by side (an idle sync worker costs no CPU), so the bare route can be
measured before *and* after the app targets: the spread between the two bare runs shows
how much the machine drifted during the run, and the ratios use their mean. The floor
(bench/floor.py) does GET /v1/key's guaranteed work with raw drivers: the best ratio any
implementation of those guarantees could reach here."""
import statistics
from pathlib import Path

from . import flood, loadgen, servers
from .catalogue import Catalogue, basket_items, basket_request
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

    with servers.gunicorn("bench.bare:app", WORKERS, bare_log, ready_path="/") as (
            bare_url, bare_master), \
            servers.gunicorn("wsgi:app", WORKERS, app_log, app_env) as (app_url, app_master), \
            servers.gunicorn("bench.floor:app", WORKERS, directory / "gunicorn-floor.log",
                             floor_env, ready_path="/") as (floor_url, _):
        lines_before = servers.log_lines(app_log)
        bare_first = measure("bare Flask route", bare_url + "/", Load())
        rows = {
            "key": measure("GET /v1/key", app_url + "/v1/key", Load(headers=key)),
            "key_floor": measure("floor: GET /v1/key, raw drivers", floor_url + "/v1/key",
                                 Load(headers=key)),
            "basket": measure("POST /v1/cheapest-stores (10)", app_url + "/v1/cheapest-stores",
                              Load("POST", basket, {**key, "Content-Type": "application/json"})),
        }
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
    for row in rows.values():
        row["ratio"] = round(row["rps"] / bare_rps, 3)
    # What a flood of bad keys from another address leaves of good-key throughput.
    rows["key_under_flood"]["flood_statuses"] = dict(flood_statuses)
    rows["key_under_flood"]["vs_unflooded"] = round(
        rows["key_under_flood"]["rps"] / rows["key"]["rps"], 3)
    requests_sent = sum(row["requests"] for name, row in rows.items() if name != "key_floor")
    return {
        "settings": f"gunicorn {WORKERS} sync workers; " + (
            f"wrk -t{threads} -c{connections} -d{seconds:g}s" if tool == "wrk" else
            f"Python fallback, {connections} client threads, {seconds:g} s")
            + f" after a {warmup:g} s warm-up",
        "targets": {"bare": bare, **rows},
        "bare_runs_rps": [round(bare_first["rps"]), round(bare_last["rps"])],
        "bare_spread_pct": abs(bare_first["rps"] - bare_last["rps"]) / bare_rps * 100,
        "app_worker_peak_rss_mb": app_rss, "bare_worker_peak_rss_mb": bare_rss,
        "basket_items": basket["items"],
        "app_log_lines_during_load": logged, "app_requests_during_load": requests_sent,
    }
