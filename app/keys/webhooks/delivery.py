"""The delivery worker: sends what the outbox holds, at least once, exactly once when
nothing fails.

1. **Claim** a batch of due deliveries in one short transaction: on PostgreSQL
   ``SELECT ... FOR UPDATE SKIP LOCKED``, so several workers never take the same row; the
   claim counts the attempt and moves ``next_attempt_at`` to when the claim lapses.
   (SQLite has no row locks: run one worker there.)
2. **Send** each one, with no transaction open (a slow receiver holds no lock), signed
   (signing.py), to the address the URL resolves to now, checked again (urls.py).
3. **Record** the outcome: a 2xx within ``WEBHOOK_TIMEOUT`` seconds is ``delivered``;
   anything else is retried after the next wait of ``WEBHOOK_RETRY_SCHEDULE``, and is
   ``failed`` after the last. An endpoint that has done nothing but fail for
   ``WEBHOOK_DISABLE_AFTER`` is disabled, with an audit event (``webhook.disable``).

A worker killed between 1 and 3 loses nothing: its claim lapses and another worker (or
the same one, restarted) sends the delivery again, with the same ``webhook-id``."""
import logging
import time
from datetime import timedelta

import requests
from sqlalchemy import select, update

from ...clock import now
from ...extensions import db
from .. import audit
from . import sealing, signing, urls
from .models import WebhookDelivery, WebhookEndpoint
from .settings import allow_private, retry_schedule, setting

log = logging.getLogger("storeprice")
BATCH = 10


def deliver_due(batch: int = BATCH) -> int:
    """Claim and send up to ``batch`` due deliveries; return how many were attempted."""
    claimed = claim(batch)
    http = urls.session(allow_private())
    for delivery_id, attempt in claimed:
        send(http, delivery_id, attempt)
    return len(claimed)


def claim(batch: int) -> list[tuple[int, int]]:
    """[(delivery id, attempt number)], each claimed until its send can have ended."""
    moment = now()
    due = db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.attempts)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= moment,
               WebhookEndpoint.disabled_at.is_(None))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(batch)
        .with_for_update(of=WebhookDelivery, skip_locked=True)).all()
    # The sends run one after the other: the last may end this late.
    lapses = moment + timedelta(seconds=len(due) * (float(setting("WEBHOOK_TIMEOUT")) + 1) + 5)
    for delivery_id, attempts in due:
        db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                           .values(attempts=attempts + 1, next_attempt_at=lapses))
    db.session.commit()
    return [(delivery_id, attempts + 1) for delivery_id, attempts in due]


def send(http: requests.Session, delivery_id: int, attempt: int) -> None:
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != "pending" or delivery.attempts != attempt:
        db.session.rollback()
        return  # deleted, retried by hand, or claimed again after a lapse: not ours now
    event, endpoint = delivery.event, delivery.endpoint
    url, stored, message_id = endpoint.url, endpoint.secret, signing.webhook_id(event.id)
    endpoint_id = endpoint.id
    payload = signing.body(event.type, event.created_at, event.data)
    db.session.rollback()  # no transaction stays open while the receiver answers
    try:
        secret = sealing.unseal(stored, setting("WEBHOOK_SECRET_KEYS"))
    except sealing.SecretUnavailable as error:
        # Nothing is sent unsigned: the attempt fails, and the retries go on, so that
        # the deliveries go out once the server has its keys back.
        log.error("webhook %s not sent to %s: %s", message_id, endpoint_id, error)
        record(delivery_id, attempt, None, str(error))
        return
    timeout = float(setting("WEBHOOK_TIMEOUT"))
    code, error = post(http, url, payload,
                       signing.signed_headers(secret, message_id, now(), payload), timeout)
    record(delivery_id, attempt, code, error)


def post(http, url: str, payload: str, headers: dict, timeout: float):
    """(status code or None, error or None). Only the status matters: the body is not read."""
    started = time.monotonic()
    try:
        if not allow_private():
            urls.check_url(url)  # a clear reason when the name now resolves elsewhere
        with http.post(url, data=payload.encode(), headers=headers, timeout=(timeout, timeout),
                       allow_redirects=False, stream=True) as response:
            if time.monotonic() - started > timeout:
                return response.status_code, f"answered after more than {timeout:g} s"
            return response.status_code, None
    except urls.UnsafeUrl as refused:
        return None, str(refused)[:200]
    except requests.Timeout:
        return None, f"no answer within {timeout:g} s"
    except requests.ConnectionError:
        return None, "could not connect"
    except Exception as error:  # a worker must outlive any one receiver's misbehaviour
        log.warning("webhook delivery to %s failed: %r", url, error)
        return None, error.__class__.__name__


def record(delivery_id: int, attempt: int, code: int | None, error: str | None) -> None:
    moment = now()
    delivery = db.session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.status != "pending" or delivery.attempts != attempt:
        db.session.rollback()
        return
    endpoint = delivery.endpoint
    delivery.last_status_code, delivery.last_error = code, error
    if error is None and code is not None and 200 <= code < 300:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = \
            "delivered", moment, None
        endpoint.failing_since = None
    else:
        if delivery.last_error is None:
            delivery.last_error = f"answered {code}"
        schedule = retry_schedule()
        if attempt <= len(schedule):
            delivery.next_attempt_at = moment + timedelta(seconds=schedule[attempt - 1])
        else:
            delivery.status, delivery.next_attempt_at = "failed", None
        _count_failure(endpoint, moment)
    db.session.commit()


def _count_failure(endpoint: WebhookEndpoint, moment) -> None:
    if endpoint.failing_since is None:
        endpoint.failing_since = moment
    elif endpoint.disabled_at is None and (moment - endpoint.failing_since).total_seconds() \
            >= float(setting("WEBHOOK_DISABLE_AFTER")):
        endpoint.disabled_at = moment
        audit.record("webhook.disable", endpoint.id, {
            "disabled_at": [None, audit.wire(moment)],
            "failing_since": [audit.wire(endpoint.failing_since)] * 2})


def run(once: bool = False, stopping=lambda: False) -> int:
    """Deliver until ``stopping()`` (or, with ``once``, until nothing is due), looking for
    time-based events every WEBHOOK_SCHEDULE_EVERY seconds. Returns attempts made."""
    from .reminders import emit_reminders
    attempted, last_look = 0, None
    while not stopping():
        if last_look is None or time.monotonic() - last_look \
                >= float(setting("WEBHOOK_SCHEDULE_EVERY")):
            emit_reminders()
            last_look = time.monotonic()
        count = deliver_due()
        attempted += count
        if once and count == 0:
            break
        if count == 0:
            time.sleep(float(setting("WEBHOOK_POLL_INTERVAL")))
    return attempted
