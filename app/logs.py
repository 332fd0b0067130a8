"""One log format for every line, with no key material in any of them.

Every line the app, its libraries and gunicorn write is one JSON object (python-json-logger)
with ``ts``, ``level``, ``logger``, ``msg`` and, where known, ``request_id`` and
``key_id`` (the public key id, never the secret), plus whatever the line adds (the request
line: method, route, status, duration, units, completed).

**Redaction** happens in the formatter, on every string of the finished record, so no
caller has to remember it. A log line may quote anything a client sent: a path where a
revoked key was pasted instead of its id, a query string, a Referer, a malformed header
name. A client may also disguise a key: ``%73pk_...``, ``spk%5F...``, ``\\x5f``, HTML
entities, several layers of percent-encoding. So each run of characters between
separators is decoded the ways a key could be disguised, and the whole run is replaced if
what it decodes to contains the key prefix (``API_KEY_PREFIX`` + ``_``, in any case) or
anything shaped like a key's body (8-character id, ``_``, 38 base62 characters). Some
innocent text gets redacted with it; no key material gets through."""
import html
import logging
import os
import re
import sys
from urllib.parse import unquote

from pythonjsonlogger.json import JsonFormatter

REDACTED = "[redacted]"
# What separates runs: whitespace, quotes and URL and JSON punctuation. Not "%", "\\",
# "&", "#", ";": they are how a key is disguised, and must stay inside its run.
SEPARATORS = re.compile(r"""[\s"'/?=,:<>()\[\]{}|]+""")
KEY_BODY = re.compile(r"[0-9A-Za-z]{8}_[0-9A-Za-z]{38}")
ESCAPE = re.compile(r"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4}))")
SUSPECT = re.compile(r"[%\\&_]")  # a run without any of these cannot hold a key


class Redactor:
    def __init__(self, prefix: str):
        self.marker = f"{prefix}_".lower()

    def __call__(self, text: str) -> str:
        if not SUSPECT.search(text):
            return text  # the common case: nothing to decode
        return "".join(self._run(part) for part in _split_keeping_separators(text))

    def _run(self, run: str) -> str:
        if not run or SEPARATORS.fullmatch(run) or not SUSPECT.search(run):
            return run
        plain = unveil(run)
        if self.marker in plain.lower() or KEY_BODY.search(plain):
            return REDACTED
        return run


def _split_keeping_separators(text: str) -> list[str]:
    parts, last = [], 0
    for match in SEPARATORS.finditer(text):
        parts += [text[last:match.start()], match.group(0)]
        last = match.end()
    return parts + [text[last:]]


def unveil(run: str, rounds: int = 4) -> str:
    """The run as a key would read once its disguises are off: percent-encoding (also
    nested), backslash escapes, HTML character references."""
    for _ in range(rounds):
        plain = html.unescape(ESCAPE.sub(_unescape, unquote(run.replace("+", " "))))
        if plain == run:
            break
        run = plain
    return run


def _unescape(match) -> str:
    return chr(int(match.group(1) or match.group(2), 16))


def prefix_from_environment() -> str:
    return os.environ.get("API_KEY_PREFIX", "spk")


class JsonLines(JsonFormatter):
    """python-json-logger's formatter with the fields named as the docs list them, the
    request's ids added when the line is written inside a request, and every string
    redacted."""

    def __init__(self, prefix: str | None = None):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s",
                         rename_fields={"asctime": "ts", "levelname": "level",
                                        "name": "logger", "message": "msg"},
                         datefmt="%Y-%m-%dT%H:%M:%S%z")
        self.redact = Redactor(prefix or prefix_from_environment())

    def add_fields(self, log_data, record, message_dict) -> None:
        super().add_fields(log_data, record, message_dict)
        for field, value in _request_ids().items():
            log_data.setdefault(field, value)

    def process_log_record(self, log_data):
        return {field: self._clean(value) for field, value in log_data.items()}

    def _clean(self, value):
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, (list, tuple)):
            return [self._clean(item) for item in value]
        if isinstance(value, dict):
            return {self._clean(str(k)): self._clean(v) for k, v in value.items()}
        return value


def _request_ids() -> dict:
    """request_id and key_id of the request being served, if there is one."""
    try:
        from flask import g, has_request_context
    except ImportError:  # gunicorn's master has no Flask to ask
        return {}
    if not has_request_context():
        return {}
    caller = g.get("caller")
    ids = {"request_id": g.get("request_id")}
    if caller is not None or g.get("verified_key_id"):
        ids["key_id"] = caller.id if caller is not None else g.get("verified_key_id")
    return ids


def configure(level: str = "INFO", prefix: str | None = None) -> None:
    """Every logger of the process writes JSON lines to stderr (once per process: a second
    app in the same process, as in the tests, re-sets the level and prefix only)."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h.formatter, JsonLines)), None)
    if handler is None:
        # Plain stream handlers (logging.basicConfig's) would print a second, non-JSON
        # line; others (a test runner's capture, an operator's file handler) stay.
        for old in [h for h in root.handlers if type(h) is logging.StreamHandler]:
            root.removeHandler(old)
        handler = logging.StreamHandler(sys.stderr)
        root.addHandler(handler)
    handler.setFormatter(JsonLines(prefix))
    root.setLevel(level)
    logging.captureWarnings(True)  # warnings.warn(...) too becomes a JSON line
