"""The tally of refused calls: a flood of calls that the minute window refuses (429
rate-limited) costs no database write per call.

Each such call adds one to a per-key counter in the limiter storage (Redis when scaled
out: one INCR, the same kind of operation as the minute window itself). The key's first
call of a later minute window, which writes to the database anyway (its admission, or
the record of its refusal), takes the tally and writes it in the same transaction, as
one usage row under the endpoint ``TALLIED`` (calls, 4xx and 429 counters). So 300
refused calls in a minute cost one Redis INCR each and, together, one upsert.

Taking is race-free with increments alone: a taker subtracts what it read, and if the
counter went below zero (another taker got there first) it gives back what it overdrew,
never more than it subtracted (the rest of a deficit is other takers' to give back).
If the database write then fails, the tally is given back. A tally whose key never
calls again stays in the storage for ``KEPT`` seconds; counts are lost only if the
storage is (memory:// on a restart)."""
import logging

from .models import Usage

log = logging.getLogger(__name__)
TALLIED = "* refused by the minute window"  # the usage row's endpoint label
assert len(TALLIED) <= Usage.endpoint.type.length
KEPT = 7 * 86400


def _name(key_id: str) -> str:
    return f"refused-tally/{key_id}"


def add(storage, key_id: str) -> None:
    try:
        storage.incr(_name(key_id), KEPT)
    except Exception as error:  # the storage is down: the 429 stands, the count is lost
        log.warning("refused call of key %s not tallied (%s)", key_id,
                    error.__class__.__name__)


def take(storage, key_id: str) -> int:
    """Everything tallied for the key so far, now owed to the caller's database write."""
    try:
        seen = storage.get(_name(key_id))
        if seen <= 0:
            return 0
        left = storage.incr(_name(key_id), KEPT, -seen)
        if left < 0:  # another taker took part of it first: give back our overdraft
            overdrawn = min(seen, -left)
            storage.incr(_name(key_id), KEPT, overdrawn)
            return seen - overdrawn
        return seen
    except Exception as error:
        log.warning("tally of key %s not read (%s)", key_id, error.__class__.__name__)
        return 0


def give_back(storage, key_id: str, count: int) -> None:
    """The database write that took ``count`` failed: they are owed again."""
    try:
        storage.incr(_name(key_id), KEPT, count)
    except Exception as error:
        log.warning("tally of key %s lost %d calls (%s)", key_id, count,
                    error.__class__.__name__)


def usage_counts(count: int) -> dict:
    """What ``count`` tallied refusals add to a usage row."""
    return {"calls": count, "status_4xx": count, "status_429": count}
