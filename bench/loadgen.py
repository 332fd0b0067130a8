"""Load generators: wrk when it is installed, else a pure-Python fallback.

Both keep a fixed number of connections busy for a fixed time and report throughput and
latency percentiles. Use the same generator and settings for every target in a run: the
ratios are only meaningful within one run (see bench/README.md)."""
import json
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

import requests


@dataclass(frozen=True)
class Load:
    """What to send: the same shape for both generators."""
    method: str = "GET"
    body: dict | None = None
    headers: dict = field(default_factory=dict)
    keys: tuple = ()  # if given, each request sends the next of these as X-API-Key


@dataclass(frozen=True)
class LoadResult:
    tool: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx responses plus socket errors: any of them spoils the number


def available() -> str:
    return "wrk" if shutil.which("wrk") else "python"


def run(tool: str, url: str, load: Load, connections: int, threads: int, seconds: float,
        warmup: float) -> LoadResult:
    """A short warm-up (discarded: first requests fill caches and connection pools), then
    the measured run."""
    generate = run_wrk if tool == "wrk" else run_python
    if warmup > 0:
        generate(url, load, connections, threads, warmup)
    return generate(url, load, connections, threads, seconds)


# --- wrk -------------------------------------------------------------------------------

# wrk sends the method and body from a Lua script; done() prints the numbers as one JSON
# line, which is sturdier than parsing wrk's human-readable report (units vary: us/ms/s).
LUA = """
wrk.method = "%(method)s"
%(body)s
%(keys)s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %%.0f, "duration_us": %%.0f, "p50_us": %%.0f, "p99_us": %%.0f, '
    .. '"errors": %%.0f}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


def run_wrk(url: str, load: Load, connections: int, threads: int, seconds: float) -> LoadResult:
    # A level-2 long bracket [==[ ... ]==] quotes any JSON (which may contain "]]").
    body = f"wrk.body = [==[{json.dumps(load.body)}]==]" if load.body is not None else ""
    keys = ("local keys = {" + ", ".join(f'"{k}"' for k in load.keys) + "}\n"
            "local n = 0\n"
            "request = function()\n"
            "  n = n + 1\n"
            '  wrk.headers["X-API-Key"] = keys[(n % #keys) + 1]\n'
            "  return wrk.format()\n"
            "end") if load.keys else ""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-") as script:
        script.write(LUA % {"method": load.method, "body": body, "keys": keys})
        script.flush()
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
                   "-s", script.name]
        for name, value in load.headers.items():
            command += ["-H", f"{name}: {value}"]
        done = subprocess.run(command + [url], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[-1000:]}")
    line = next(line for line in done.stdout.splitlines() if line.startswith("BENCH "))
    numbers = json.loads(line.removeprefix("BENCH "))
    elapsed = numbers["duration_us"] / 1e6
    return LoadResult("wrk", int(numbers["requests"]), round(elapsed, 2),
                      numbers["requests"] / elapsed, numbers["p50_us"] / 1000,
                      numbers["p99_us"] / 1000, int(numbers["errors"]))


# --- pure-Python fallback ------------------------------------------------------------------

def run_python(url: str, load: Load, connections: int, threads: int,
               seconds: float) -> LoadResult:
    """One thread per connection, each with its own requests.Session, sending back to
    back until the time is up. ``threads`` is ignored: the GIL, not a thread count, is
    what limits this client. It costs far more CPU per request than wrk, and shares the
    machine with the server, so absolute req/s come out lower; ratios stay comparable."""
    samples: list[tuple[float, bool]] = []  # (seconds, ok); list.append is thread-safe
    deadline = time.perf_counter() + seconds

    def client() -> None:
        sent = 0
        with requests.Session() as session:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                headers = load.headers
                if load.keys:
                    headers = {**headers, "X-API-Key": load.keys[sent % len(load.keys)]}
                    sent += 1
                try:
                    response = session.request(load.method, url, json=load.body,
                                               headers=headers, timeout=30)
                    ok = response.status_code < 400
                except requests.RequestException:
                    ok = False
                samples.append((time.perf_counter() - started, ok))

    started = time.perf_counter()
    workers = [threading.Thread(target=client, daemon=True) for _ in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latency for latency, _ in samples)
    errors = sum(not ok for _, ok in samples)
    return LoadResult("python", len(ordered), round(elapsed, 2), len(ordered) / elapsed,
                      percentile(ordered, 50) * 1000, percentile(ordered, 99) * 1000, errors)


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list (wrk reports the same kind)."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]
