"""HTTP behaviour every route shares, whatever it does:

- ``OPTIONS`` answers 204 with ``Allow`` (Flask's automatic answer, which lists every
  method of the path): the key pipeline lets it through, so it needs no key and is never
  billed, and it reveals nothing a 405 would not;
- a 204 carries no body, so no ``Content-Type`` either;
- ``//`` in a path is a 404 problem, not a redirect to the merged path (werkzeug's default
  answers that with an HTML page, and a redirect would drop the client's method and body)."""
from flask import request


def no_content_without_need(response):
    if request.method == "OPTIONS" and response.status_code == 200 and request.url_rule:
        response.status_code = 204  # Flask's automatic OPTIONS answer has an empty body
    if response.status_code == 204:
        response.headers.pop("Content-Type", None)
    return response


def init_app(app):
    """Call before any route is added (merge_slashes is read as rules are bound)."""
    app.url_map.merge_slashes = False
    app.after_request(no_content_without_need)
