"""The Blueprint every view uses: flask-smorest's, with an arguments parser whose every
failure is a problem a client can act on, never a 500:

- an unknown query parameter (``radius=1`` for ``radius_km=1``) → 422 naming it, as an
  unknown field of a JSON body is (webargs would silently drop it, and the caller would
  get an answer to a question they did not ask); so is any query parameter, or any
  body, sent to an operation that reads none (``POST .../revoke?dry_run=1`` would revoke);
- a query parameter given twice (``?page=1&page=2``) → 422 naming it (webargs would
  silently keep the first, and the caller would not know which one was read);
- no body where the operation requires one (``required=True``, flask-smorest's default)
  → 422 naming ``json`` (webargs would read "no body" as ``{}``, and a PATCH without a
  body would answer 200 having changed nothing);
- a body sent without ``Content-Type: application/json`` (none, or another) → 415
  ``unsupported-media-type``: only ``application/json`` itself, not the JSON-ish types
  webargs also takes (``application/merge-patch+json`` promises merge-patch semantics
  this API does not implement; webargs would silently read it as JSON);
- JSON that is not JSON, or not UTF-8 → 400 ``bad-request``;
- JSON nested deeper than ``MAX_JSON_DEPTH`` → 400 (Python's parser would recurse until it
  hits the interpreter's limit);
- an integer with more than ``MAX_INT_DIGITS`` digits → 422 ``validation-error`` (no field of
  this API needs more, and int() of a huge string costs quadratic time).
A body over ``MAX_CONTENT_LENGTH`` is a 413: werkzeug refuses a Content-Length over it,
and a chunked body (no length) that goes on past it is refused here — werkzeug would
hand over its first MAX_CONTENT_LENGTH bytes as if they were the whole body, which then
reads as "invalid JSON". A body that stalls is cut off by the server (app/serving.py, 408)."""
import json

import flask_smorest
from webargs import core
from flask import current_app, request
from webargs.flaskparser import FlaskParser, abort
from werkzeug.exceptions import RequestEntityTooLarge

from .errors import Problem

MAX_JSON_DEPTH = 32
MAX_INT_DIGITS = 30
JSON = "application/json"  # the one media type a body may have


def _digits_checked_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise Problem(422, "validation-error",
                      f"An integer in the body has more than {MAX_INT_DIGITS} digits.",
                      errors={"json": [f"Integers have at most {MAX_INT_DIGITS} digits."]})
    return int(text)


def _nesting_depth(text: str) -> int:
    """Deepest [ / { nesting outside strings: a linear scan, before any recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


class ArgumentsParser(FlaskParser):
    # webargs' default for query strings is EXCLUDE; None leaves it to each schema, and
    # every schema here is a StrictSchema (RAISE).
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None}

    def _raw_load_json(self, req):
        data = req.get_data(cache=True)  # 413 from werkzeug if Content-Length is over
        if req.content_length is None and len(data) == req.max_content_length \
                and req.environ["wsgi.input"].read(1):  # more than werkzeug let through
            raise RequestEntityTooLarge()
        if not data:
            if getattr(_view(), "body_required", False):
                abort(422, messages={"json": {"json": ["This operation needs a JSON body."]}})
            return core.missing  # no body, and the operation does not need one
        if req.mimetype != JSON:
            raise Problem(415, "unsupported-media-type",
                          "Send the body as JSON with Content-Type: application/json.")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise Problem(400, "bad-request", "The request body is not UTF-8.") from None
        if _nesting_depth(text) > MAX_JSON_DEPTH:
            raise Problem(400, "bad-request",
                          f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.")
        try:
            return json.loads(text, parse_int=_digits_checked_int)
        except json.JSONDecodeError:
            raise Problem(400, "bad-request", "The request body is not valid JSON.") from None

    def load_querystring(self, req, schema):
        """The query string, each parameter once (a list field may repeat its own)."""
        args = self._makeproxy(req.args, schema)
        repeated = sorted(name for name, values in req.args.lists()
                          if len(values) > 1 and name not in args.multiple_keys)
        if repeated:
            abort(422, messages={"query": {name: ["Give this parameter once."]
                                           for name in repeated}})
        return args


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with the arguments parser above, refusing what a view
    does not read."""
    ARGUMENTS_PARSER = ArgumentsParser()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.before_request(_nothing_unread)  # runs after the key check (app-level)

    def arguments(self, schema, *args, location="json", **kwargs):
        """As flask-smorest's, but a schema class is instantiated once, here: webargs
        would build a new instance (copying every field) on each request. The view
        remembers which locations it reads (`reads`), for _nothing_unread, and whether
        its body is required (`body_required`), for the parser."""
        decorator = super().arguments(schema() if isinstance(schema, type) else schema,
                                      *args, location=location, **kwargs)

        def reading(view):
            view = decorator(view)
            view.reads = getattr(view, "reads", frozenset()) | {location}
            if location == "json":
                view.body_required = kwargs.get("required", True)
            return view
        return reading


def _view():
    return current_app.view_functions.get(request.endpoint)


def _nothing_unread():
    """A query string or a body sent to an operation that reads none is refused the way
    webargs refuses an unknown field (422 naming it): ignored, a `?dry_run=1` or a body
    meant for another operation would look accepted while the operation went ahead."""
    if request.method == "OPTIONS" or request.routing_exception is not None:
        return  # OPTIONS reads nothing; a refused request (app/http.py) is refused already
    reads = getattr(_view(), "reads", frozenset())
    if request.args and "query" not in reads:
        abort(422, messages={"query": {name: ["Unknown field."] for name in request.args}})
    if "json" not in reads and (request.content_length or request.content_length is None
                                and "chunked" in request.headers.get("Transfer-Encoding", "")):
        abort(422, messages={"json": {"json": ["This operation takes no body."]}})
