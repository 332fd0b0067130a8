"""Metrics an operator scrapes: ``GET /metrics``, Prometheus text format, read with an
``admin`` key, never counted against a quota or billed (``@quota_free``: the call is not
admitted, so it costs no units).

- ``storeprice_requests_total{operation, status_class}`` and the latency histogram
  ``storeprice_request_duration_seconds{operation}``: every request, by route template;
- ``storeprice_refusals_total{problem}``: 4xx answers by problem type
  (``/problems/quota-exceeded``, ...);
- ``storeprice_unavailable_total{cause}``: 503s by cause, ``database`` or
  ``limiter_storage`` (else ``other``);
- ``storeprice_webhook_deliveries_total{outcome}``: counted by the webhook delivery worker
  with ``webhook_delivery(outcome)``.

Under gunicorn every worker is its own process: prometheus-client's multiprocess mode
(``PROMETHEUS_MULTIPROC_DIR``, which gunicorn.conf.py sets for the master and its workers)
keeps each worker's counts in files that the worker answering the scrape adds up. Without
it (the test client, ``flask run``) the counts live in the process."""
import json
import os
import time

from flask import Response, g, request
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram,
                               generate_latest, multiprocess)
from prometheus_client import REGISTRY as PROCESS_REGISTRY

from ..blueprint import Blueprint
from .limits import quota_free
from .openapi import keyed_operation
from .scope import requires

REQUESTS = Counter("storeprice_requests", "Requests by operation and status class",
                   ("operation", "status_class"))
LATENCY = Histogram("storeprice_request_duration_seconds", "Time to produce the answer",
                    ("operation",), buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
REFUSALS = Counter("storeprice_refusals", "4xx answers by problem type", ("problem",))
UNAVAILABLE = Counter("storeprice_unavailable", "503 answers by cause", ("cause",))
WEBHOOK_DELIVERIES = Counter("storeprice_webhook_deliveries",
                             "Webhook delivery attempts by outcome", ("outcome",))


def webhook_delivery(outcome: str) -> None:
    """Count one webhook delivery attempt: ``outcome`` e.g. "delivered", "retry",
    "failed", "disabled"."""
    WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()


def observe(response) -> None:
    """Count one answer (after_request)."""
    operation = (f"{request.method} {request.url_rule.rule}" if request.url_rule
                 else "unmatched")  # never the raw path: it may hold anything, a key too
    status = response.status_code
    REQUESTS.labels(operation=operation, status_class=f"{status // 100}xx").inc()
    LATENCY.labels(operation=operation).observe(
        time.perf_counter() - g.get("started", time.perf_counter()))
    if 400 <= status < 500:
        REFUSALS.labels(problem=_problem_type(response)).inc()
    elif status == 503:
        cause = ("database" if g.get("database_unavailable")
                 else "limiter_storage" if g.get("limiter_storage_unavailable") else "other")
        UNAVAILABLE.labels(cause=cause).inc()


def _problem_type(response) -> str:
    if response.mimetype != "application/problem+json":
        return "none"
    try:
        return str(json.loads(response.get_data())["type"])[:80]
    except (ValueError, KeyError, TypeError):
        return "none"


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(PROCESS_REGISTRY)


blp = Blueprint("metrics", __name__, description="Metrics for operators")


@blp.route("/metrics")
@blp.doc(operationId="metrics", responses={"200": {
    "description": "Prometheus text format",
    "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}})
@keyed_operation(blp)
@requires("admin")
@quota_free
def metrics():
    """Counters and latency for Prometheus.

    Requests by operation and status class, latency, refusals by problem type, 503s by
    cause, webhook deliveries by outcome. Needs an admin key; never counted against the
    daily quota and never billed.
    """
    return Response(exposition(), mimetype=CONTENT_TYPE_LATEST.split(";")[0],
                    headers={"Content-Type": CONTENT_TYPE_LATEST})
