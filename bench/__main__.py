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

from . import catalogue, cpu, engine, growth, hotkey, loadgen, report, throughput

STARTED = time.perf_counter()
SEED_50K_SECONDS = 120  # what the seed is expected to need for 1,000 x 50,000 on SQLite
# The bench's own PostgreSQL database (dropped and re-created on every run) and Redis
# database number: neither may be one anybody else uses.
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
REDIS = "redis://127.0.0.1:6379/7"
QUICK = {"duration": 2, "warmup": 1, "large_items": 20_000, "growth_requests": 60,
         "database_seconds": 1.5}


def progress(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:6.1f}s] {message}", flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run (about 5 minutes): 2 s per target, 20,000 items "
                             "in the growth test; its numbers are noisy")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto",
                        help="auto: wrk when installed, else the pure-Python fallback")
    parser.add_argument("--duration", type=float, default=5, help="seconds per target")
    parser.add_argument("--warmup", type=float, default=1, help="discarded seconds first")
    parser.add_argument("--connections", default="16,32",
                        help="connection counts of the served tables, comma-separated")
    parser.add_argument("--sync-connections", default="32",
                        help="connection counts of the sync-worker tables")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--postgres", default=POSTGRES,
                        help="the bench's own PostgreSQL database (DROPPED and re-created); "
                             "'none' skips the PostgreSQL + Redis tables and the hot key")
    parser.add_argument("--redis", default=REDIS,
                        help="the Redis database for the PostgreSQL tables (flushed first)")
    parser.add_argument("--skip", default="",
                        help="comma-separated parts to leave out: sync, postgres, hotkey, "
                             "engine, growth")
    parser.add_argument("--large-items", type=int, default=50_000,
                        help="items in the large catalogue of the growth test; seeding "
                             "1,000 x 50,000 takes 2-3 minutes and ~2.7 GB in $TMPDIR, "
                             "20000 is a quicker proxy")
    parser.add_argument("--growth-requests", type=int, default=200)
    parser.add_argument("--database-seconds", type=float, default=3,
                        help="seconds per point of the hot key's database-alone curve")
    args = parser.parse_args(argv)
    if args.quick:
        for name, value in QUICK.items():
            if getattr(args, name) == parser.get_default(name):
                setattr(args, name, value)
    args.connections = [int(c) for c in args.connections.split(",")]
    args.sync_connections = [int(c) for c in args.sync_connections.split(",") if c]
    args.skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    if args.postgres == "none":
        args.skip.add("postgres")
    return args


def postgres_and_redis(args) -> str | None:
    """Why the PostgreSQL + Redis tables cannot run, or None; flushes the bench's Redis
    database (it holds nothing but the bench's counters)."""
    import redis
    import sqlalchemy
    try:
        redis.Redis.from_url(args.redis, socket_connect_timeout=1).flushdb()
    except redis.RedisError as error:
        return f"Redis at {args.redis} does not answer ({error.__class__.__name__})"
    try:
        catalogue.recreate_postgres(args.postgres)
    except (sqlalchemy.exc.SQLAlchemyError, ImportError) as error:
        return f"PostgreSQL at {args.postgres} refused ({error.__class__.__name__}: " \
               f"{str(error).strip()[:200]})"
    return None


def measure(args, directory: Path) -> dict:
    tool = loadgen.available() if args.loadgen == "auto" else args.loadgen
    # The embedded default: SQLite + memory://. LOG_LEVEL: see the warnings.
    embedded = {"RATELIMIT_STORAGE_URI": "memory://", "LOG_LEVEL": "WARNING"}
    shared = {"RATELIMIT_STORAGE_URI": args.redis, "LOG_LEVEL": "WARNING"}
    warnings = []
    load_before = os.getloadavg()[0]
    if load_before > 0.25 * os.cpu_count():  # someone else is using a quarter of the CPUs
        warnings.append(f"the machine was busy before the bench started (load average "
                        f"{load_before:.2f} on {os.cpu_count()} cores): numbers are noisy")
    if "postgres" not in args.skip:
        why = postgres_and_redis(args)
        if why:
            warnings.append(f"{why}: the PostgreSQL + Redis tables and the hot key are "
                            "not measured")
            args.skip.add("postgres")
    http = {"args": {"duration": args.duration, "warmup": args.warmup,
                     "connections": args.connections,
                     "sync_connections": args.sync_connections}}
    timing = (tool, args.threads, args.duration, args.warmup, progress)

    progress("seeding 200 stores x 2,000 items (SQLite)")
    demo = catalogue.build(directory, 200, 2000)
    progress(f"HTTP throughput, SQLite + memory://, {demo.prices:,} prices, journal_mode="
             f"{catalogue.journal_mode(demo)}")
    http["served_sqlite"] = throughput.run(demo, directory, embedded, tool, args.connections,
                                           *timing[1:], served=True, with_flood=True)
    progress("CPU per call in process, SQLite")
    http["cpu_sqlite"] = cpu.run(demo, embedded)
    if "sync" not in args.skip and args.sync_connections:
        http["sync_sqlite"] = throughput.run(demo, directory, embedded, tool,
                                             args.sync_connections, *timing[1:], served=False)
    hot = None
    if "postgres" not in args.skip:
        progress("seeding 200 stores x 2,000 items (PostgreSQL)")
        pg = catalogue.build(directory, 200, 2000, postgres=args.postgres)
        progress(f"HTTP throughput, PostgreSQL + Redis, {pg.prices:,} prices")
        http["served_postgres"] = throughput.run(pg, directory, shared, tool, args.connections,
                                                 *timing[1:], served=True)
        progress("CPU per call in process, PostgreSQL + Redis")
        http["cpu_postgres"] = cpu.run(pg, shared)
        if "sync" not in args.skip and args.sync_connections:
            http["sync_postgres"] = throughput.run(pg, directory, shared, tool,
                                                   args.sync_connections, *timing[1:],
                                                   served=False)
        if "hotkey" not in args.skip:
            progress("one hot key on PostgreSQL: 1, 2, 4, 8 workers")
            hot = {"http": hotkey.run_http(pg, directory, shared, tool, max(args.connections),
                                           *timing[1:])}
            progress("one hot key: the database alone")
            hot["database"] = hotkey.run_database(pg, args.database_seconds, progress)
    for name, table in http.items():
        if name not in report.TABLES:
            continue
        if table["app_log_lines_during_load"] > table["app_requests_during_load"] // 2:
            # The app reads LOG_LEVEL in app/config.py; if that setting goes missing, every
            # request writes a log line again and the numbers include that cost.
            warnings.append(f"{name}: LOG_LEVEL=WARNING was ignored: the app wrote "
                            f"{table['app_log_lines_during_load']:,} log lines during the "
                            "load, so the numbers include one log line per request (check "
                            "LOG_LEVEL in app/config.py and create_app)")

    http["basket_engine_ms"] = engine.bench_basket_ms(demo.path, catalogue.basket_items(demo))
    engine_results = growth_results = None
    if "engine" not in args.skip:
        progress("engine: exact 3-store plans, 20 items, 1,000 stores (seed-like, chain-wide)")
        engine_results = engine.run()
    if "growth" not in args.skip:
        progress("seeding 1,000 stores x 2,000 items")
        small = catalogue.build(directory, 1000, 2000)
        progress(f"seeding 1,000 stores x {args.large_items:,} items")
        large = catalogue.build(directory, 1000, args.large_items)
        if large.items >= 50_000 and large.seed_seconds > SEED_50K_SECONDS:
            rate = large.prices / large.seed_seconds
            warnings.append(f"seeding 1,000 x {large.items:,} items took "
                            f"{large.seed_seconds:.0f} s (expected < {SEED_50K_SECONDS} s): "
                            f"{rate:,.0f} prices/s")
        progress(f"basket latency growth, {args.growth_requests} sequential requests each")
        growth_results = growth.run(small, large, directory, embedded, args.growth_requests)
    return {"run_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                        "load_average_before": round(load_before, 2),
                        "load_average_after": round(os.getloadavg()[0], 2)},
            "loadgen": tool, "quick": args.quick,
            "seconds": round(time.perf_counter() - STARTED),
            "http": http, "hotkey": hot, "engine": engine_results, "growth": growth_results,
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
