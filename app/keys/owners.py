"""Owners (organisations) and the daily limit their keys share.

A key's ``owner`` names the organisation that owns its application. An owner may get a
shared ``daily_limit``: every key of that owner then also counts against it, in the same
atomic admission as the key's own quota (limits.py), so N calls a day hold in total
across all its keys, workers and hosts. Owners exist as soon as a key names them; a row
in ``owners`` only holds a limit. One service for the CLI and the admin API; a change is
written together with its audit event (``owner.update``)."""
from sqlalchemy import func, select

from ..clock import now
from ..extensions import db
from . import audit
from .models import ApiKey, Owner, OwnerQuota


def list_owners(page: int = 1, per_page: int = 50) -> dict:
    """Every owner named by a key or given a limit, by name, with today's shared count."""
    keys = dict(db.session.execute(select(ApiKey.owner, func.count())
                                   .group_by(ApiKey.owner)).all())
    limits = dict(db.session.execute(select(Owner.owner, Owner.daily_limit)).all())
    used = dict(db.session.execute(select(OwnerQuota.owner, OwnerQuota.used)
                                   .where(OwnerQuota.day == now().date())).all())
    names = sorted(set(keys) | set(limits))
    rows = [{"owner": name, "daily_limit": limits.get(name), "keys": keys.get(name, 0),
             "used_today": used.get(name, 0)} for name in names]
    return {"data": rows[(page - 1) * per_page:page * per_page], "page": page,
            "per_page": per_page, "total": len(rows)}


def set_daily_limit(owner: str, daily_limit: int | None) -> dict:
    """Set (or, with None, remove) the owner's shared daily limit; applies from the next
    call of any of its keys (the key check reads it on every call)."""
    row = db.session.get(Owner, owner, with_for_update=True)
    before = row.daily_limit if row is not None else None
    if row is None:
        row = Owner(owner=owner)
        db.session.add(row)
    row.daily_limit = daily_limit
    if before != daily_limit:
        audit.record("owner.update", owner, {"daily_limit": [before, daily_limit]})
    db.session.commit()
    return next(row for row in list_owners(per_page=10**6)["data"] if row["owner"] == owner)
