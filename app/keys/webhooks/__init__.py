"""Telling key holders before they hit a wall: signed webhooks, sent from an outbox.

An owner (organisation) subscribes a URL to events; each event is written in the same
transaction as the change that causes it, and a worker delivers it, signed per Standard
Webhooks, retrying on a schedule. It never imports ``app.market``.

    models.py      endpoints, events (the outbox), deliveries
    events.py      emitting into the outbox: quota thresholds, rotations, revocations
    reminders.py   time-based events: expiring keys, plan suggestions
    signing.py     Standard Webhooks signatures (the standardwebhooks package)
    sealing.py     signing secrets encrypted at rest (WEBHOOK_SECRET_KEYS, Fernet)
    urls.py        URL safety: https, public addresses only, checked again at delivery
    delivery.py    the worker: claim (SKIP LOCKED), send, retry, disable
    settings.py    the settings and their defaults
    endpoints.py   managing endpoints and deliveries (whose, secrets, retries)
    schemas.py     input and output
    views.py       /v1/webhooks
    cli.py         flask webhooks deliver [--once], webhooks seal-secrets
"""
