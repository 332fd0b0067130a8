"""Run the real app under gunicorn, as served: gunicorn.conf.py (worker class, threads,
limits, problem+json for gunicorn's own answers, the redacting access log), with several
worker processes for the concurrency tests."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """``with Gunicorn(env, workers=4) as url: ...`` serves wsgi:app until the block ends."""

    def __init__(self, env: dict, workers: int = 4, access_log: str | None = None):
        # Several workers on memory:// are refused at start unless allowed; the tests that
        # run them on memory:// count per worker on purpose (SQLite runs of shared tests).
        self.env = {**os.environ, "DEFAULT_KEY_TTL": "", "LOG_LEVEL": "WARNING",
                    "ACCESS_LOG": access_log or "", "RATELIMIT_ALLOW_PER_PROCESS": "true",
                    **env}
        self.workers = workers

    def __enter__(self) -> str:
        port = free_port()
        self.port = port
        self.process = subprocess.Popen(
            [str(GUNICORN), "--config", str(ROOT / "gunicorn.conf.py"),
             "--workers", str(self.workers), "--bind", f"127.0.0.1:{port}",
             "--log-level", "warning"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return url
            except requests.RequestException:  # still booting
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("gunicorn did not start: " + self.process.stderr.read().decode())

    def __exit__(self, *_):
        self.process.terminate()
        self.process.wait(timeout=30)
