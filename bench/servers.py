"""Start gunicorn, wait until it answers, read its workers' memory, always stop it.

Every target of one table runs under the same gunicorn settings, so the ratios compare the
applications, not the server configuration: either the served configuration (the
repository's gunicorn.conf.py: its worker class, threads and access log) or plain sync
workers (``--config /dev/null``)."""
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from .catalogue import PROJECT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SERVED = PROJECT / "gunicorn.conf.py"


@contextlib.contextmanager
def gunicorn(app: str, workers: int, log_path: Path, env: dict | None = None,
             ready_path: str = "/healthz", served: bool = False):
    """Serve ``app`` (e.g. "wsgi:app") on a free port; yields (base_url, master process).
    ``served``: under the repository's gunicorn.conf.py (its worker class, THREADS
    threads per worker, its access log: ACCESS_LOG in ``env`` says where), else plain
    sync workers.

    The server gets its own session (process group), so Ctrl-C reaches only us, and we
    stop it in order: SIGTERM to the master, then SIGKILL to the group if it lingers."""
    port = free_port()
    # --config /dev/null: not the repository's gunicorn.conf.py, which gunicorn would
    # otherwise read from the working directory.
    config = str(SERVED) if served else os.devnull
    command = [sys.executable, "-m", "gunicorn", "--config", config,
               "--workers", str(workers), "--bind", f"127.0.0.1:{port}", app]
    # stderr goes to a file: a pipe nobody reads would fill up and block the workers.
    with open(log_path, "ab") as log:
        master = subprocess.Popen(command, cwd=PROJECT, env={**os.environ, **(env or {})},
                                  stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_ready(base_url + ready_path, master, log_path, workers)
        yield base_url, master
    finally:
        stop(master)


def wait_ready(url: str, master: subprocess.Popen, log_path: Path, workers: int,
               timeout: float = 60) -> None:
    """Until the URL answers (200, or any status below 500 for a URL that needs a key)
    and every worker has booted (so no warm-up is lost to a worker still importing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if master.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {master.returncode}:\n"
                               f"{log_path.read_text()[-2000:]}")
        with contextlib.suppress(requests.RequestException):
            if (requests.get(url, timeout=2).status_code < 500
                    and len(worker_pids(master.pid)) == workers):
                return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer {url} within {timeout:.0f}s")


def stop(master: subprocess.Popen) -> None:
    if master.poll() is None:
        master.terminate()  # gunicorn's graceful shutdown also stops the workers
        with contextlib.suppress(subprocess.TimeoutExpired):
            master.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(master.pid, signal.SIGKILL)  # any worker left behind
    master.wait()


def worker_pids(master_pid: int) -> list[int]:
    """gunicorn workers are the master's children: scan /proc for that parent pid."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            # Field 4 of /proc/PID/stat is the parent pid; the name before it may contain
            # spaces, so split after its closing parenthesis.
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == master_pid:
                children.append(int(entry.name))
    return sorted(children)


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process ever had, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # reported in kB
    raise RuntimeError(f"no VmHWM for pid {pid}")


def workers_peak_rss(master: subprocess.Popen) -> list[float]:
    return [round(peak_rss_mb(pid), 1) for pid in worker_pids(master.pid)]


def log_lines(log_path: Path) -> int:
    return len(log_path.read_text(errors="replace").splitlines()) if log_path.exists() else 0
