"""Delivered or not: a call is completed (and billed) only once the server has written its
whole answer.

Flask finishes a request (after_request, teardown) *before* the server writes a byte, so
nothing there knows whether the client got the answer. The WSGI server does: it iterates
the response body, writes each chunk, and then calls the body's ``close()`` (PEP 3333),
also when a write failed because the client hung up. ``Delivery`` wraps the body to see
the difference:

- *handed over*: the server asked for the next chunk after the last one, so the write of
  the last chunk returned (gunicorn and werkzeug write each chunk before asking for the
  next one), and the client had not hung up before the answer was written;
- *cut*: the client was gone before the first byte (its end of the connection was closed:
  a request timeout or Ctrl-C; nginx logs these as 499), a write raised (the client reset
  the connection), or ``close()`` came before the end. A killed worker never calls
  ``close()`` at all, which leaves the call as it was admitted: incomplete.

Then it runs the callbacks that the request registered with ``after_delivery`` (metering,
the request log line, metrics), outside the request context, with that verdict.

Flask's test client only closes a response body when the test asks for the whole body up
front (``buffered=True``); ``DeliveringClient`` always does, as a server would."""
import logging
import socket

from flask import request
from flask.testing import FlaskClient

log = logging.getLogger(__name__)
CALLBACKS = "storeprice.after_delivery"  # the environ entry holding them


def after_delivery(callback) -> None:
    """Call ``callback(delivered: bool)`` once the server is done with this answer."""
    request.environ.setdefault(CALLBACKS, []).append(callback)


class Delivery:
    """WSGI middleware: watches each answer's body on its way to the client."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        return WatchedBody(self.wsgi_app(environ, start_response), environ)


class WatchedBody:
    def __init__(self, body, environ):
        self.body, self.environ = body, environ
        self.handed_over = False

    def __iter__(self):
        # The first chunk is asked for just before the first write: a client that closed
        # its end before that will not read the answer.
        if client_hung_up(self.environ):
            yield from self.body
            return
        yield from self.body
        self.handed_over = True  # asked for more after the last chunk: its write returned

    def close(self):
        try:
            if hasattr(self.body, "close"):
                self.body.close()
        finally:
            for callback in self.environ.pop(CALLBACKS, ()):
                try:
                    callback(self.handed_over)
                except Exception:  # one failing callback must not skip the others
                    log.exception("after-delivery callback failed")


def client_hung_up(environ) -> bool:
    """Whether the client's end of the connection is closed (or reset), without reading
    anything: a peek that finds end-of-file. A pipelined next request reads as data."""
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    if sock is None:
        return False  # not served over a socket (the test client): nobody can hang up
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError):
        return False  # nothing to read: still there, waiting for its answer
    except ValueError:
        return False  # a TLS socket takes no flags: rely on the writes failing
    except OSError:
        return True  # reset


class DeliveringClient(FlaskClient):
    """Flask's test client, closing every response body as a server does."""

    def open(self, *args, buffered=True, **kwargs):
        return super().open(*args, buffered=buffered, **kwargs)
