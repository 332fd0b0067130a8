"""HTTP behaviour every route shares, whatever it does:

- ``OPTIONS`` answers 204 with ``Allow`` (Flask's automatic answer, which lists every
  method of the path): the key pipeline lets it through, so it needs no key and is never
  billed, and it reveals nothing a 405 would not;
- ``HEAD`` is not served: 405 with ``Allow``, like any method a path does not have.
  Flask answers HEAD on every GET route by running the GET (so it would be checked,
  counted and billed) while the OpenAPI document, which lists no HEAD operation, says
  nothing of it. An undocumented billed operation is worse than none;
- a 204 carries no body, so no ``Content-Type`` either;
- ``//`` in a path is a 404 problem, not a redirect to the merged path (werkzeug's default
  answers that with an HTML page, and a redirect would drop the client's method and body),
  and not the path without its first slash either (werkzeug's routing strips leading
  slashes, so ``//v1/items`` would be served as ``/v1/items``);
- a ``Transfer-Encoding`` other than ``chunked`` (``gzip, chunked``) is a 501
  ``not-implemented`` problem, as RFC 9112 asks of a server that does not decode a
  transfer coding: gunicorn passes such a body through still encoded, and reading it as
  the body would answer a different request than the one sent.
These refusals come before the key check: they cost no quota and are never billed."""
from flask import request
from werkzeug.exceptions import NotFound
from werkzeug.routing import Rule

from .errors import Problem

SUPPORTED_TRANSFER_CODINGS = {"chunked"}


class GetWithoutHeadRule(Rule):
    """A route whose GET does not also answer HEAD (werkzeug adds HEAD to every GET)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.methods is not None:
            self.methods.discard("HEAD")


def refuse_what_no_route_serves():
    """Turn these requests into routing failures, as if no route matched: the rest of
    the request path (request id, key layer, metering) then treats them as it treats an
    unknown path, and Flask raises the refusal where it would raise a 404."""
    refusal = None
    if request.environ.get("PATH_INFO", "").startswith("//"):
        refusal = NotFound()
    codings = request.headers.get("Transfer-Encoding", "")
    unsupported = [coding for coding in (part.strip().lower() for part in codings.split(","))
                   if coding and coding not in SUPPORTED_TRANSFER_CODINGS]
    if unsupported:
        refusal = Problem(501, "not-implemented",
                          f"The transfer coding {', '.join(unsupported)} is not supported: "
                          "send the body as it is (Content-Length) or chunked only.",
                          {"Connection": "close"})
    if refusal is not None:
        request.url_rule, request.routing_exception = None, refusal


def no_content_without_need(response):
    if request.method == "OPTIONS" and response.status_code == 200 and request.url_rule:
        response.status_code = 204  # Flask's automatic OPTIONS answer has an empty body
    if response.status_code == 204:
        response.headers.pop("Content-Type", None)
    return response


def init_app(app):
    """Call before any route is added (merge_slashes and the rule class are read as rules
    are added) and before the key layer (so these refusals come before the key check)."""
    app.url_map.merge_slashes = False
    app.url_rule_class = GetWithoutHeadRule
    app.before_request(refuse_what_no_route_serves)
    app.after_request(no_content_without_need)
