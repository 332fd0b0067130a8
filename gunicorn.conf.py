"""How the API is served. gunicorn reads this file from the working directory by default,
so a plain `gunicorn wsgi:app` (and `make run`, and the tests) get all of it. Each setting
can still be overridden on the command line (`--workers 4`) or with GUNICORN_CMD_ARGS.

Environment: WEB_CONCURRENCY (workers, default 1; more than one needs Redis for the
per-minute limits, see the README's scale-out section), THREADS (per worker, default 8),
BODY_TIMEOUT (seconds a request body may take to arrive, default 10), ACCESS_LOG (a path,
"-" for stdout, the default, or "" for none), RATELIMIT_ALLOW_PER_PROCESS (see on_starting),
PROMETHEUS_MULTIPROC_DIR (where the workers' metrics meet; a fresh temporary folder by
default)."""
import os
import shutil
import sys
import tempfile

wsgi_app = "wsgi:app"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))

# Threads, not one process per request: a client that sends its headers and then its body
# slowly ties up one thread, and app.serving.BODY_TIMEOUT takes even that back (408).
worker_class = "app.serving.ProblemWorker"
threads = int(os.environ.get("THREADS", "8"))
timeout = 30          # a worker whose main loop stalls this long is restarted
graceful_timeout = 30
keepalive = 5

# Request limits, answered by gunicorn itself with problem+json (app.serving): a request
# line over 4094 bytes is a 414 (the README's GET basket maximum is stated against it),
# more than 100 headers or one over 8190 bytes a 431.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# The access log never records a key, even one sent in the URL (refused with 400).
logger_class = "app.serving.RedactingLogger"
accesslog = os.environ.get("ACCESS_LOG", "-") or None

# Several servers on one host (the tests, or instances side by side) would otherwise share
# one control socket path ($HOME/.gunicorn/gunicorn.ctl).
control_socket_disable = True


def on_starting(server):
    """Per-process limiter storage (memory://) with several workers would let each worker
    admit a whole minute's worth: refuse to start, unless it is explicitly allowed."""
    storage = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    allowed = os.environ.get("RATELIMIT_ALLOW_PER_PROCESS", "").lower() in ("1", "true", "yes")
    if server.cfg.workers > 1 and storage.startswith("memory") and not allowed:
        sys.exit(f"error: {server.cfg.workers} workers with per-process rate-limit storage "
                 f"({storage}) would each admit the whole per-minute limit; set "
                 "RATELIMIT_STORAGE_URI=redis://... (or RATELIMIT_ALLOW_PER_PROCESS=true)")


# Metrics (GET /metrics): each worker writes its counters to files in one folder, which
# the worker answering the scrape adds up (prometheus-client's multiprocess mode). The
# variable must be set before any worker imports prometheus_client, so it is set here,
# in the master, and the workers inherit it.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="storeprice-metrics-")
    _OWN_METRICS_DIR = os.environ["PROMETHEUS_MULTIPROC_DIR"]
else:
    _OWN_METRICS_DIR = None


def child_exit(server, worker):
    """A worker's live gauges go with it (counters and histograms are kept)."""
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _OWN_METRICS_DIR:
        shutil.rmtree(_OWN_METRICS_DIR, ignore_errors=True)
