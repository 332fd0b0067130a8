"""How the shopper page is served (``python -m client web`` reads this file; so does
``gunicorn -c client/gunicorn.conf.py``). Not the API's settings: the page is a small app
that waits on the API, so a few threads in one process serve many shoppers.

One worker process by default: the per-visitor counters (client/guard.py) then live in
its memory. More workers (WEB_CONCURRENCY) need STOREPRICE_WEB_LIMITS=redis://... so that
they share the counters; otherwise each worker grants a visitor its own allowance.
Environment: STOREPRICE_WEB_BIND (default 127.0.0.1:5050), WEB_CONCURRENCY, THREADS
(default 8), ACCESS_LOG (a path, "-" for stdout, the default "" for none).
"""
import os

wsgi_app = "client.web:create_web_app()"
bind = [os.environ.get("STOREPRICE_WEB_BIND", "127.0.0.1:5050")]
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
threads = int(os.environ.get("THREADS", "8"))
worker_class = "gthread"
timeout = 30          # the SDK gives up on the API after 15 s (read timeout) anyway
graceful_timeout = 10
keepalive = 5

# A shopping list travels in the URL: 30 items of up to 100 characters fit in 4094 bytes.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

accesslog = os.environ.get("ACCESS_LOG") or None
control_socket_disable = True  # several servers on one host would share one socket path
