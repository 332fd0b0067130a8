"""How the API is served. gunicorn reads this file from the working directory by default,
so a plain `gunicorn wsgi:app` (and `make run`, and the tests) get all of it. Each setting
can still be overridden on the command line (`--workers 4`) or with GUNICORN_CMD_ARGS.

Environment: WEB_CONCURRENCY (workers, default 1; more than one needs Redis for the
per-minute limits, see the README's scale-out section), THREADS (per worker, default 8),
BODY_TIMEOUT (seconds a request body may take to arrive, default 10), ACCESS_LOG (a path,
"-" for stdout, the default, or "" for none)."""
import os

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
