"""A WSGI app that answers with the pid of the worker that served it: lets
tests/test_balancing.py see which worker holds which connection."""
import os


def app(environ, start_response):
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
