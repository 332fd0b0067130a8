"""The served configuration's moving parts (gunicorn.conf.py names them):

- ``ProblemWorker``: gunicorn's threaded worker (``gthread``) that reads each request
  whole in its event loop before a thread takes it (app/buffering.py: slow clients hold
  no thread, and get a 408 past ``REQUEST_READ_TIMEOUT``); whose own answers (request
  line or headers too large, a malformed header, a bad chunk) are
  ``application/problem+json`` with an ``X-Request-ID``, like every answer of the app,
  instead of gunicorn's HTML page; and whose request bodies, when read in a thread (one
  larger than what is read ahead), must arrive within ``BODY_TIMEOUT`` seconds (408).
- ``RedactingLogger``: gunicorn's logger whose access log never records an API key: key
  parameters of the query string, and anything shaped like a key, are replaced.

Only gunicorn imports this module; the app itself never does."""
import json
import os
import re
import socket
import threading
import time
import uuid
from functools import lru_cache

from gunicorn import util
from gunicorn.glogging import Logger
from gunicorn.http.errors import ParseException
from gunicorn.workers.gthread import ThreadWorker
from werkzeug.exceptions import BadRequest, RequestTimeout

from .balancing import FairAccept
from .buffering import BufferedRequests
from .errors import PROBLEM_JSON, TITLES, TYPE_BY_STATUS
from .logs import JsonLines
from .keys.check import QUERY_KEY_NAMES

BODY_TIMEOUT = float(os.environ.get("BODY_TIMEOUT", "10"))  # seconds for a whole body

# What gunicorn refuses before the app sees the request, said without echoing the input
# (a malformed header's value may be a key).
DETAILS = {
    400: "The request line, a header or the chunked body is malformed (a header value "
         "with CR or LF, an invalid name, a bad chunk size...).",
    403: "This proxy request is not allowed.",
    408: "The request was not received in time.",
    414: "The request line is longer than the server accepts (4094 bytes); for a large "
         "basket use POST /v1/cheapest-stores.",
    417: "The Expect header is not supported.",
    431: "The request has too many headers, or one that is too large.",
    500: "Something went wrong on our side.",
    501: "This transfer coding is not supported.",
}


def problem_bytes(status: int, reason: str, detail: str | None = None) -> bytes:
    """A whole HTTP/1.1 response: a problem document, then the connection closes."""
    request_id = uuid.uuid4().hex
    type_ = TYPE_BY_STATUS.get(status, "bad-request")
    body = json.dumps({"type": f"/problems/{type_}", "title": TITLES[type_],
                       "status": status, "detail": detail or DETAILS.get(status, reason),
                       "instance": request_id}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: {PROBLEM_JSON}\r\nContent-Length: {len(body)}\r\n"
            f"X-Request-ID: {request_id}\r\n\r\n")
    return head.encode("latin-1") + body


def write_problem(sock, status_int, reason, mesg):
    """Drop-in for gunicorn.util.write_error (which writes an HTML page)."""
    util.write_nonblock(sock, problem_bytes(int(status_int), reason))


class BodyWatchdog:
    """One thread per worker process that ends body reads which have run past their
    deadline. A deadline cannot be a socket timeout: a client that sends a byte every
    0.2 s never lets one recv() time out, and gunicorn's read loops until it has all it
    asked for. So the read side of such a socket is shut, which ends the blocked recv."""

    def __init__(self, period: float = 0.1):
        self.period, self.reads, self.lock = period, {}, threading.Lock()
        self.thread = None

    def watch(self, body: "DeadlineBody") -> None:
        with self.lock:
            self.reads[id(body)] = body
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, daemon=True,
                                               name="body-watchdog")
                self.thread.start()

    def forget(self, body: "DeadlineBody") -> None:
        with self.lock:
            self.reads.pop(id(body), None)

    def _run(self):
        while True:
            time.sleep(self.period)
            moment = time.monotonic()
            with self.lock:
                late = [body for body in self.reads.values() if moment >= body.deadline]
            for body in late:
                body.cut_off()


WATCHDOG = BodyWatchdog()


class DeadlineBody:
    """wsgi.input that must be read within the request's deadline. Past it, the read side
    of the socket is shut (gunicorn then stops draining the body) and RequestTimeout
    (408) reaches the app, which answers it as a problem. A body gunicorn cannot parse
    (a bad chunk) is a BadRequest (400) for the app, not an unknown exception (500)."""

    def __init__(self, stream, sock, deadline):
        self.stream, self.sock, self.deadline = stream, sock, deadline
        self.expired = False

    def cut_off(self):
        self.expired = True
        try:
            self.sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass

    def _within_deadline(self, read, *args):
        if time.monotonic() >= self.deadline:
            self.cut_off()
        if self.expired:
            raise self._timeout()
        WATCHDOG.watch(self)
        try:
            data = read(*args)
        except ParseException:
            if self.expired:
                raise self._timeout() from None
            raise BadRequest("The chunked body is malformed.") from None
        except OSError:  # gunicorn's NoMoreData included
            if self.expired:
                raise self._timeout() from None
            raise
        finally:
            WATCHDOG.forget(self)
        if self.expired:  # what came before the cut is not the whole body
            raise self._timeout()
        return data

    @staticmethod
    def _timeout():
        return RequestTimeout(f"The body did not arrive within {BODY_TIMEOUT:g} seconds.")

    def read(self, size=None):
        return self._within_deadline(self.stream.read, size)

    def readline(self, size=None):
        return self._within_deadline(self.stream.readline, size)

    def readlines(self, hint=None):
        return self._within_deadline(self.stream.readlines, hint)

    def __iter__(self):
        return iter(self.readline, b"")


class BodyDeadline:
    """WSGI middleware: each request's body must arrive within ``seconds`` of its
    headers."""

    def __init__(self, app, seconds: float):
        self.app, self.seconds = app, seconds

    def __call__(self, environ, start_response):
        sock = environ.get("gunicorn.socket")
        if sock is not None:
            environ["wsgi.input"] = DeadlineBody(environ["wsgi.input"], sock,
                                                 time.monotonic() + self.seconds)
        return self.app(environ, start_response)


class ProblemWorker(FairAccept, BufferedRequests, ThreadWorker):
    """gthread, sharing connections fairly with the other workers, reading whole requests
    before a thread takes them, with problem+json for gunicorn's own answers and a
    deadline on bodies."""

    def timeout_answer(self) -> bytes:
        return problem_bytes(408, "Request Timeout",
                             "The request was not received whole in time.")

    def init_process(self):
        # gunicorn's error path calls util.write_error for every answer it makes itself;
        # in this worker process that is the problem+json writer above.
        util.write_error = write_problem
        super().init_process()

    def load_wsgi(self):
        super().load_wsgi()
        self.wsgi = BodyDeadline(self.wsgi, BODY_TIMEOUT)


# --- the access log -------------------------------------------------------------------

KEY_PARAMETER = re.compile(
    r"(?i)((?:^|[?&;])(?:%s)=)[^&;\s\"]*" % "|".join(re.escape(n) for n in QUERY_KEY_NAMES))
KEY_SHAPED = re.compile(r"spk_[A-Za-z0-9_%-]+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """Key parameters and key-shaped tokens out of a request line, query or referer."""
    text = KEY_PARAMETER.sub(lambda m: m.group(1) + REDACTED, text)
    return KEY_SHAPED.sub(REDACTED, text)


@lru_cache(maxsize=8)
def printed_atoms(access_log_format: str) -> tuple[str, ...]:
    """The atoms a log format prints: '%(r)s "%(f)s"' -> ("r", "f")."""
    return tuple(re.findall(r"%\(([^)]+)\)s", access_log_format))


class RedactingLogger(Logger):
    """gunicorn's logger; every access-log atom that the format prints goes through
    ``redact`` and the key header itself never shows, whatever ``access_log_format`` asks
    for. Its error and access logs write the app's JSON lines (app/logs.py), which redact
    every field once more, disguised keys included: what gunicorn itself logs (a malformed
    header's name, a request line) can hold a key too."""

    def setup(self, cfg):
        super().setup(cfg)  # the handlers --error-logfile and --access-logfile ask for
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonLines())

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # Only what the line prints: gunicorn makes an atom of every request and response
        # header and environ entry (dozens), and redacting each cost more than the line.
        for name in printed_atoms(self.cfg.access_log_format):
            if name.lower() in ("{x-api-key}i", "{http_x_api_key}e"):
                atoms[name] = REDACTED
            elif isinstance(atoms[name], str):
                atoms[name] = redact(atoms[name])
        return atoms
