"""``python -m client alerts --port N``: the partner's webhook receiver.

Listens on http://HOST:PORT/ for the Store Price API's webhooks, verifies each one's
Standard Webhooks signature with the endpoint's secret (``--secret`` or
STOREPRICE_WEBHOOK_SECRET, the ``whsec_...`` shown once when the endpoint was created),
and prints one line per event. A request whose signature does not verify is answered 400
and printed as rejected (the check is webhooks.py's, shared with the web app). Delivery
is at least once: a retried event carries the same ``webhook-id``, so one seen before is
acknowledged (204) and not printed again.

Subscribe this receiver with a key that has scope ``keys`` (the server must allow
private targets for http://127.0.0.1, as ``make run`` does):

    curl -X POST http://127.0.0.1:5000/v1/webhooks -H "X-API-Key: $KEY" \\
      -H 'Content-Type: application/json' \\
      -d '{"url": "http://127.0.0.1:8099/", "events": ["quota.threshold", "key.expiring"]}'
"""
from __future__ import annotations

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .errors import ConfigurationError
from .terminal import printable
from .webhooks import MAX_BODY, SECRET_VARIABLE, Rejected, verifier, verify


def describe(event: dict) -> str:
    """One line a person reads: what happened to which key."""
    data = event.get("data") or {}
    kind = event.get("type")
    if kind == "quota.threshold":
        text = (f"key {data.get('key_id')} used {data.get('threshold')}% of its daily limit "
                f"({data.get('used')}/{data.get('daily_limit')} on {data.get('day')})")
    elif kind == "key.expiring":
        text = f"key {data.get('key_id')} expires {data.get('expires_at')} " \
               f"(in {data.get('days_left')} day(s) or less)"
    elif kind in ("key.rotated", "key.revoked"):
        text = f"key {data.get('key_id')} {kind.split('.')[1]} by {data.get('actor')}"
    elif kind == "plan.suggestion":
        text = f"key {data.get('key_id')}: {data.get('action')} to plan " \
               f"{data.get('suggested_plan')} ({data.get('reason')})"
    else:
        text = json.dumps(data)
    return printable(f"{event.get('timestamp')} {kind}: {text}")


def make_server(host: str, port: int, secret: str, out=None) -> ThreadingHTTPServer:
    checker, seen, lock = verifier(secret), set(), threading.Lock()
    out = out or sys.stdout

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return self._answer(413)
            body = self.rfile.read(length)
            try:
                webhook_id, event = verify(checker, body, dict(self.headers))
            except Rejected:
                print(printable("rejected: a request whose signature does not verify"),
                      file=out, flush=True)
                return self._answer(400)
            with lock:
                first = webhook_id not in seen
                seen.add(webhook_id)
            if first:
                print(describe(event), file=out, flush=True)
            self._answer(204)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    return ThreadingHTTPServer((host, port), Handler)


def main(args) -> int:
    secret = args.secret or os.environ.get(SECRET_VARIABLE)
    if not secret:
        print(f"error: give the endpoint's secret with --secret or {SECRET_VARIABLE}",
              file=sys.stderr)
        return 2
    try:
        server = make_server(args.host, args.port, secret)
    except ConfigurationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"listening for webhooks on http://{args.host}:{server.server_address[1]}/",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
