"""The latest quota alert, kept where every thread and every worker process of the web app
sees it: a small JSON file (``STOREPRICE_ALERT_FILE``, default ``instance/storeprice-alerts.json``
at the repository root, git-ignored).

Each verified delivery is recorded under a lock (a threading lock for this process's
threads, ``flock`` on a ``.lock`` file beside it for other gunicorn workers on the same
host) as one read-modify-write: the webhook-ids already seen (the last ``SEEN``, so a
retried delivery is recognised) and the latest ``quota.threshold`` event, by the event's
own time (a retried 80 % arriving after the 90 % does not replace it). The file is written
to a temporary file in the same folder and renamed over the old one, so a reader never
sees half of it and a crash leaves the previous version.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("storeprice.shopper")
SEEN = 1000                  # webhook-ids remembered (the API retries for days, not more)
QUOTA_FIELDS = {"key_id": str, "owner": str, "day": str, "threshold": int, "used": int,
                "daily_limit": int}


class AlertFile:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, webhook_id: str, event: dict[str, Any]) -> bool:
        """Remember a verified delivery; False if its webhook-id was seen before."""
        with self._locked():
            state = self._read()
            seen = [i for i in state.get("seen", []) if isinstance(i, str)]
            if webhook_id in seen:
                return False
            state["seen"] = (seen + [webhook_id])[-SEEN:]
            alert = quota_alert(event)
            if alert is not None and _newer(alert, state.get("alert")):
                state["alert"] = alert
            self._write(state)
            return True

    def latest(self) -> dict[str, Any] | None:
        """The latest quota alert: ``{"at", "key_id", "owner", "day", "threshold", "used",
        "daily_limit"}``, or None."""
        alert = self._read().get("alert")  # no lock needed: the file is replaced whole
        return alert if isinstance(alert, dict) else None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path.with_name(self.path.name + ".lock"), "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def _read(self) -> dict[str, Any]:
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            log.error("cannot read the alert file %s (%s): starting afresh", self.path,
                      type(error).__name__)
            return {}
        return state if isinstance(state, dict) else {}

    def _write(self, state: dict[str, Any]) -> None:
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".alerts-",
                                             suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(state, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def quota_alert(event: dict[str, Any]) -> dict[str, Any] | None:
    """The fields the operator view shows, from a ``quota.threshold`` event (else None)."""
    data = event.get("data")
    if event.get("type") != "quota.threshold" or not isinstance(data, dict):
        return None
    if not all(type(data.get(name)) is kind for name, kind in QUOTA_FIELDS.items()):
        log.warning("a quota.threshold event without the expected fields: ignored")
        return None
    try:
        at = _moment(event.get("timestamp"))
    except (TypeError, ValueError):
        return None
    return {"at": at.isoformat(), **{name: data[name] for name in QUOTA_FIELDS}}


def sentence(alert: dict[str, Any], today: date | None = None) -> str:
    """"Quota alert: 90 % of today's 5,000 calls used (4,500) at 14:02 UTC"."""
    today = today or datetime.now(UTC).date()
    which = "today's" if alert["day"] == today.isoformat() else f"{alert['day']}'s"
    return (f"Quota alert: {alert['threshold']} % of {which} {alert['daily_limit']:,} calls "
            f"used ({alert['used']:,}) at {_moment(alert['at']):%H:%M} UTC")


def _moment(text: Any) -> datetime:
    moment = datetime.fromisoformat(str(text))  # "Z" too, since Python 3.11
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _newer(alert: dict[str, Any], old: Any) -> bool:
    if not isinstance(old, dict):
        return True
    try:
        return (_moment(alert["at"]), alert["threshold"]) > (_moment(old["at"]),
                                                             old["threshold"])
    except (KeyError, TypeError, ValueError):
        return True
