"""A count that arrives late never lands: the minute window stays exact across stalls of
the limiter storage.

When Redis stalls (paused, swapping, a long fork), the INCR of a call is already on its
way; the client gives up after ``socket_timeout`` and the call is refused with a 503. The
INCR, though, still sits in Redis's socket buffer, and is applied when Redis resumes. A
window of 60 calls would then count calls that nobody was admitted for, and refuse real
ones in their place.

So each count carries its own deadline: the moment its client stops waiting for it. A
small Lua script compares that deadline with Redis's own clock (``TIME``) and counts only
if it is not past. The deadline is written in Redis's time: each process measures the
offset between its clock and Redis's (one ``TIME`` round trip, refreshed every few
minutes), accurate to half a round trip. A count that Redis reports as late is refused
like a count that never arrived (503), so what the client was told and what was counted
agree.

Storages other than Redis (memory://) cannot stall this way and count as before."""
import time

# KEYS[1]: the counter; ARGV: expiry (s), amount, deadline (Redis epoch seconds).
GUARDED_INCR = """
local now = redis.call('TIME')
if tonumber(now[1]) + tonumber(now[2]) / 1000000 > tonumber(ARGV[3]) then
    return -1
end
local amount = tonumber(ARGV[2])
local current = redis.call('INCRBY', KEYS[1], amount)
if current == amount then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return current
"""
OFFSET_KEPT = 300  # seconds an offset measurement is trusted (clocks drift slowly)


class LateCount(Exception):
    """Redis applied the count after its client had stopped waiting: it did not count."""


def incr_in_time(storage, key: str, expiry: int, patience: float) -> int:
    """INCR ``key`` in the limiter ``storage``, only if Redis gets to it within
    ``patience`` seconds from now; else LateCount (or the client's own timeout)."""
    client = _redis_client(storage)
    if client is None:
        return storage.incr(key, expiry)
    script = storage.__dict__.get("_guarded_incr")
    if script is None:
        script = storage._guarded_incr = client.register_script(GUARDED_INCR)
    deadline = time.time() + _offset(storage, client) + patience
    counted = int(script([storage.prefixed_key(key)], [expiry, 1, f"{deadline:.6f}"]))
    if counted < 0:
        raise LateCount(key)
    return counted


def _redis_client(storage):
    """The redis-py client behind flask-limiter's Redis storage, or None."""
    if not hasattr(storage, "prefixed_key") or not hasattr(storage, "get_connection"):
        return None
    client = storage.get_connection()
    return client if hasattr(client, "register_script") and hasattr(client, "time") else None


def _offset(storage, client) -> float:
    """Redis's clock minus ours, in seconds, measured at most every OFFSET_KEPT seconds."""
    measured_at, offset = storage.__dict__.get("_clock_offset", (None, 0.0))
    if measured_at is None or time.monotonic() - measured_at > OFFSET_KEPT:
        sent = time.time()
        seconds, microseconds = client.time()
        received = time.time()
        offset = seconds + microseconds / 1e6 - (sent + received) / 2
        if received - sent < 0.05:  # a slow answer measures badly: use it this once only
            storage._clock_offset = (time.monotonic(), offset)
    return offset
