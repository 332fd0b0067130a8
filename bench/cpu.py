"""CPU time per call, in process: what each server's code costs, without a server.

Served, every worker thread competes for the same cores, so a call costs what its code
burns in CPU; time spent waiting (on a commit, on the network) is hidden by the other
threads. This measures both per call, one thread, through each app's Flask test client
(the app's own client also delivers the response, so its metering runs): the bare route,
the floor (bench/floor.py), the naive peer and the app, over the same database. Where two
servers are both CPU-bound, the ratio of their CPU per call is about the most one can be
faster than the other, whatever the server around them.

Each app runs in a process of its own (``python -m bench.cpu <app>``, its settings from
the environment, like the servers): four Flask apps and their settings do not mix in one
interpreter."""
import json
import os
import subprocess
import sys
import time

from .catalogue import PROJECT, Catalogue, basket_items, basket_request

APPS = {"bare": "bench.bare", "floor": "bench.floor", "peer": "bench.naive_peer",
        "app": "wsgi"}
PATHS = {"key": "/v1/key", "items": "/v1/items?per_page=1", "basket": "/v1/cheapest-stores"}
SERVES = {"bare": ("bare",), "floor": ("key", "items"), "peer": ("key", "items", "basket"),
          "app": ("key", "items", "basket")}


def run(catalogue: Catalogue, env: dict, calls: int = 1000) -> dict:
    """{app: {call: {"cpu_ms", "wall_ms"}}}, each app in its own interpreter."""
    basket = basket_request(basket_items(catalogue))
    settings = {**os.environ, **env, "DATABASE_URL": catalogue.url,
                "FLOOR_DATABASE": str(catalogue.path) if catalogue.sqlite else catalogue.url,
                "FLOOR_REDIS": env["RATELIMIT_STORAGE_URI"],
                "BENCH_KEY": catalogue.key, "BENCH_BASKET": json.dumps(basket),
                "BENCH_CALLS": str(calls)}
    found = {}
    for name in APPS:
        done = subprocess.run([sys.executable, "-m", "bench.cpu", name], cwd=PROJECT,
                              env=settings, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"bench.cpu {name} failed:\n{done.stderr[-2000:]}")
        found[name] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def measure(name: str) -> dict:
    """In this process: import one app, warm it up, time its calls (the median of three
    rounds, so that one disturbed round does not count)."""
    import importlib
    app = importlib.import_module(APPS[name]).app
    client = app.test_client()
    key = {"X-API-Key": os.environ["BENCH_KEY"]}
    basket = json.loads(os.environ["BENCH_BASKET"])
    calls = int(os.environ["BENCH_CALLS"])
    result = {}
    for call in SERVES[name]:
        def one(call=call):
            if call == "bare":
                response = client.get("/")
            elif call == "basket":
                response = client.post(PATHS[call], json=basket, headers=key)
            else:
                response = client.get(PATHS[call], headers=key)
            if response.status_code != 200:
                raise RuntimeError(f"{name} {call}: {response.status_code} {response.data[:300]}")
        count = calls // 5 if call == "basket" else calls
        for _ in range(count // 5):
            one()
        rounds = []
        for _ in range(3):
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(count):
                one()
            rounds.append(((time.process_time() - cpu) * 1000 / count,
                           (time.perf_counter() - wall) * 1000 / count))
        cpu_ms, wall_ms = sorted(rounds)[1]
        result[call] = {"cpu_ms": round(cpu_ms, 3), "wall_ms": round(wall_ms, 3)}
    return result


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1])))
