"""``python -m bench`` (``make bench``): measure, print the report, save latest.json.

Exit status 0 when the measurements ran, even if a target fails: this is a report, and
the FAIL lines say what to look at. A broken setup (seed failed, server did not start)
exits 1. Everything it starts lives in one temp dir and one set of child processes, which
are removed on every way out, Ctrl-C included."""
import argparse
import os
import platform
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from . import catalogue, engine, growth, loadgen, report, throughput

STARTED = time.perf_counter()
SEED_50K_SECONDS = 120  # what the seed is expected to need for 1,000 x 50,000 on SQLite


def progress(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:6.1f}s] {message}", flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto",
                        help="auto: wrk when installed, else the pure-Python fallback")
    parser.add_argument("--duration", type=float, default=10, help="seconds per target")
    parser.add_argument("--warmup", type=float, default=2, help="discarded seconds first")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--large-items", type=int, default=50_000,
                        help="items in the large catalogue of the growth test; seeding "
                             "1,000 x 50,000 takes 2-3 minutes and ~2.7 GB in $TMPDIR, "
                             "20000 is a quicker proxy")
    parser.add_argument("--growth-requests", type=int, default=200)
    parser.add_argument("--limiter-storage", default="auto",
                        help="RATELIMIT_STORAGE_URI for the app; auto: Redis on "
                             "127.0.0.1:6379 when it answers (the documented setup for "
                             "several workers), else memory://")
    return parser.parse_args(argv)


def limiter_storage(choice: str) -> str:
    if choice != "auto":
        return choice
    try:
        import redis
        redis.Redis(socket_connect_timeout=0.5).ping()
        return "redis://127.0.0.1:6379/1"
    except Exception:  # no Redis here: memory:// still works, as the bench key never hits
        return "memory://"  # its limits, but it is not the multi-worker configuration


def measure(args, directory: Path) -> dict:
    tool = loadgen.available() if args.loadgen == "auto" else args.loadgen
    args.limiter_storage = limiter_storage(args.limiter_storage)
    # The per-minute limit lives in this storage. LOG_LEVEL: see the warnings.
    env = {"RATELIMIT_STORAGE_URI": args.limiter_storage, "LOG_LEVEL": "WARNING"}
    warnings = []
    load_before = os.getloadavg()[0]
    if load_before > 0.25 * os.cpu_count():  # someone else is using a quarter of the CPUs
        warnings.append(f"the machine was busy before the bench started (load average "
                        f"{load_before:.2f} on {os.cpu_count()} cores): numbers are noisy")

    if not catalogue.NAIVE_PEER.is_file():
        warnings.append(f"the naive peer is missing: expected {catalogue.NAIVE_PEER} (that is "
                        "../shared/bench/naive_peer.py relative to the repository root), so "
                        "the ours-vs-peer rows are not measured and their targets FAIL")
    progress("seeding 200 stores x 2,000 items")
    demo = catalogue.build(directory, 200, 2000)
    progress(f"HTTP throughput, {demo.prices:,} prices, journal_mode="
             f"{catalogue.journal_mode(demo)}")
    http = throughput.run(demo, directory, env, tool, args.connections, args.threads,
                          args.duration, args.warmup, progress)
    if http["app_log_lines_during_load"] > http["app_requests_during_load"] // 2:
        # The app reads LOG_LEVEL in app/config.py; if that setting goes missing, every
        # request writes a log line again and the numbers include that cost.
        warnings.append(f"LOG_LEVEL=WARNING was ignored: the app wrote "
                        f"{http['app_log_lines_during_load']:,} log lines during the load, "
                        "so the numbers include one log line per request (check LOG_LEVEL "
                        "in app/config.py and create_app)")

    http["basket_engine_ms"] = engine.bench_basket_ms(demo.path, catalogue.basket_items(demo))
    progress("engine: exact 3-store plans, 20 items, 1,000 stores (seed-like, chain-wide)")
    engine_results = engine.run()

    progress("seeding 1,000 stores x 2,000 items")
    small = catalogue.build(directory, 1000, 2000)
    progress(f"seeding 1,000 stores x {args.large_items:,} items")
    large = catalogue.build(directory, 1000, args.large_items)
    if large.items >= 50_000 and large.seed_seconds > SEED_50K_SECONDS:
        rate = large.prices / large.seed_seconds
        warnings.append(f"seeding 1,000 x {large.items:,} items took {large.seed_seconds:.0f} s "
                        f"(expected < {SEED_50K_SECONDS} s): {rate:,.0f} prices/s")
    progress(f"basket latency growth, {args.growth_requests} sequential requests each")
    growth_results = growth.run(small, large, directory, env, args.growth_requests)
    return {"run_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                        "load_average_before": round(load_before, 2)},
            "loadgen": tool, "limiter_storage": args.limiter_storage,
            "http": http, "engine": engine_results, "growth": growth_results,
            "warnings": warnings}


def interrupt(_signum, _frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(argv)
    # Ctrl-C and SIGTERM (e.g. a CI timeout) both unwind through the with-blocks below,
    # which stop the servers and delete the temp dir. SIGINT is set explicitly because a
    # process started in the background inherits it ignored.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        with tempfile.TemporaryDirectory(prefix="storeprice-bench-") as directory:
            results = measure(args, Path(directory))
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped and temp files removed", file=sys.stderr)
        return 130
    except RuntimeError as error:
        print(f"\nbench setup failed: {error}", file=sys.stderr)
        return 1
    found = report.targets(results)
    report.print_report(results, found)
    report.save(results, found)
    progress("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
