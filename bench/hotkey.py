"""One hot key on PostgreSQL: how many counted calls per second can a single key make?

Every admitted call of a key updates that key's ``daily_quota`` row (limits.py) and its
``usage`` row of the hour (metering.py: the admission in the same transaction, the
completion in a second one after delivery). Two transactions updating the same row wait
for each other (a row lock held until commit), so one key's calls are serialised on its
rows however many workers serve them; many keys spread over many rows.

Two measurements:

1. **HTTP**: ``GET /v1/items?per_page=1`` (a counted call: ``GET /v1/key`` is quota-free
   and touches neither row) under the served configuration with 1, 2, 4 and 8 workers on
   PostgreSQL + Redis, once with one key for every request and once spread over many keys,
   back to back. A sampler counts the backends waiting on a lock (``pg_stat_activity``,
   every 20 ms) during each run.
2. **The database alone**: the same two transactions per call (quota + usage admission,
   then usage completion) with raw psycopg from 1, 2, 4 and 8 processes, one key vs one
   key per process: the rate PostgreSQL itself allows one key on this machine, without
   the app's CPU in front of it.

Both are measured a third time with one key in ``SHARDS`` quota shards (QUOTA_SHARDS,
app/keys/shards.py: the key's count and usage rows spread over that many rows): the
before and after of lifting one key's ceiling."""
import multiprocessing
import random
import statistics
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from . import loadgen, servers
from .catalogue import Catalogue, more_keys
from .loadgen import Load

WORKER_COUNTS = (1, 2, 4, 8)
MANY_KEYS = 32
SHARDS = 8
PATH = "/v1/items?per_page=1"


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@contextmanager
def lock_waits(url: str, every: float = 0.02):
    """Sample how many backends of this database wait on a lock; yields a dict that
    holds the mean and the most once the block ends."""
    import psycopg
    found, stop, samples = {}, threading.Event(), []

    def sample():
        with psycopg.connect(libpq(url), autocommit=True) as connection:
            while not stop.is_set():
                (waiting,) = connection.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'").fetchone()
                samples.append(waiting)
                time.sleep(every)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield found
    finally:
        stop.set()
        sampler.join(timeout=5)
        found.update(mean=round(statistics.mean(samples), 2) if samples else None,
                     most=max(samples, default=None), samples=len(samples))


def run_http(catalogue: Catalogue, directory: Path, env: dict, tool: str, connections: int,
             threads: int, seconds: float, warmup: float, progress) -> dict:
    *keys, sharded_key = more_keys(catalogue, MANY_KEYS + 1)
    # The sharded key is a key of its own: a key's shard count is fixed by its day's first
    # call (shards.py), and the bench key's day has begun with one shard.
    loads = {"hot": Load(headers={"X-API-Key": catalogue.key}), "many": Load(keys=tuple(keys)),
             "sharded": Load(headers={"X-API-Key": sharded_key})}
    curve = []
    for workers in WORKER_COUNTS:
        point = {"workers": workers}
        for names, shards in ((("hot", "many"), 1), (("sharded",), SHARDS)):
            log = directory / f"gunicorn-hotkey-{workers}-{shards}.log"
            server_env = {**env, "DATABASE_URL": catalogue.url, "QUOTA_SHARDS": str(shards),
                          "ACCESS_LOG": str(directory / f"access-hotkey-{workers}.log")}
            with servers.gunicorn("wsgi:app", workers, log, server_env, served=True) as (url,
                                                                                      _):
                for name in names:
                    progress(f"  [hot key, {workers} workers] {name}: GET {PATH}, "
                             f"-c{connections}")
                    with lock_waits(catalogue.url) as waits:
                        result = loadgen.run(tool, url + PATH, loads[name], connections,
                                             threads, seconds, warmup)
                    point[name] = {**vars(result), "lock_waiters": waits}
        point["hot_vs_many"] = round(point["hot"]["rps"] / point["many"]["rps"], 3)
        point["sharded_vs_many"] = round(point["sharded"]["rps"] / point["many"]["rps"], 3)
        curve.append(point)
    return {"path": PATH, "connections": connections, "many_keys": MANY_KEYS,
            "shards": SHARDS,
            "settings": f"served configuration (gunicorn.conf.py), PostgreSQL + Redis, "
                        f"wrk -t{threads} -c{connections} -d{seconds:g}s", "curve": curve,
            "quota_exact": quota_matches_usage(catalogue.url)}


def quota_matches_usage(url: str) -> bool:
    """After the load: every key's daily_quota count equals the calls its usage rows
    record as admitted that day (the two are written in one transaction)."""
    import psycopg
    with psycopg.connect(libpq(url)) as connection:
        mismatched = connection.execute("""
            SELECT count(*) FROM (
                SELECT key_id, day, sum(used) AS used FROM daily_quota GROUP BY key_id, day
            ) q LEFT JOIN (
                SELECT key_id, CAST(hour AS date) AS day, sum(admitted) AS admitted
                FROM usage GROUP BY key_id, CAST(hour AS date)) u
              ON u.key_id = q.key_id AND u.day = q.day
            WHERE q.used <> coalesce(u.admitted, 0)""").fetchone()[0]
    return mismatched == 0


# --- the database alone ------------------------------------------------------------------

ADMIT_QUOTA = """
    INSERT INTO daily_quota (key_id, day, shard, used) VALUES (%s, %s, %s, 1)
    ON CONFLICT (key_id, day, shard) DO UPDATE SET used = daily_quota.used + 1
    WHERE daily_quota.used < %s RETURNING used"""
ADMIT_USAGE = """
    INSERT INTO usage (key_id, hour, endpoint, price_per_1000_units_micros, shard, calls,
                       admitted, incomplete, units, status_2xx, status_3xx, status_4xx,
                       status_5xx, status_401, status_403, status_429)
    VALUES (%s, %s, 'bench', 0, %s, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0)
    ON CONFLICT (key_id, hour, endpoint, price_per_1000_units_micros, shard) DO UPDATE SET
        calls = usage.calls + 1, admitted = usage.admitted + 1,
        incomplete = usage.incomplete + 1"""
COMPLETE = """
    UPDATE usage SET incomplete = incomplete - 1, units = units + 1,
        status_2xx = status_2xx + 1
    WHERE key_id = %s AND hour = %s AND endpoint = 'bench'
      AND price_per_1000_units_micros = 0 AND shard = %s"""


def _client(url: str, key_id: str, shards: int, seconds: float, start, results) -> None:
    import psycopg
    with psycopg.connect(libpq(url)) as connection:
        moment = datetime.now(UTC).replace(tzinfo=None)
        hour = moment.replace(minute=0, second=0, microsecond=0)
        start.wait()
        calls, deadline = 0, time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            shard = random.randrange(shards)  # as the app picks one (its limit is far)
            connection.execute(ADMIT_QUOTA, (key_id, moment.date(), shard, 10**9))
            connection.execute(ADMIT_USAGE, (key_id, hour, shard))
            connection.commit()
            connection.execute(COMPLETE, (key_id, hour, shard))
            connection.commit()
            calls += 1
        results.put(calls)


def run_database(catalogue: Catalogue, seconds: float, progress) -> dict:
    """Calls/s of the admission + completion transactions from 1-8 processes, all on one
    key ("hot"), one key in SHARDS shards ("sharded"), or one key per process ("spread")."""
    key_ids = [key.split("_")[1] for key in more_keys(catalogue, max(WORKER_COUNTS) + 1)]
    context = multiprocessing.get_context("spawn")
    curve = []
    for clients in WORKER_COUNTS:
        point = {"clients": clients}
        for name in ("hot", "sharded", "spread"):
            progress(f"  [database alone, {clients} processes] {name}")
            start, results = context.Event(), context.Queue()
            processes = [context.Process(target=_client, args=(
                catalogue.url, {"hot": key_ids[0], "sharded": key_ids[-1]}.get(
                    name, key_ids[n]), SHARDS if name == "sharded" else 1, seconds, start,
                results)) for n in range(clients)]
            for process in processes:
                process.start()
            time.sleep(1.0)  # connected and waiting
            with lock_waits(catalogue.url) as waits:
                start.set()
                calls = sum(results.get(timeout=seconds + 60) for _ in processes)
            for process in processes:
                process.join()
            point[name] = {"calls_per_s": round(calls / seconds), "lock_waiters": waits}
        for name in ("hot", "sharded"):
            point[f"{name}_vs_spread"] = round(point[name]["calls_per_s"]
                                               / point["spread"]["calls_per_s"], 3)
        curve.append(point)
    return {"seconds": seconds, "curve": curve}
