"""Quota shards: one key's daily count spread over several rows, still exact.

Every admitted call of a key adds one to that key's ``daily_quota`` row and to its usage
row of the hour, and holds both rows' locks until it commits: the calls of one key queue
on them, whatever the number of workers and hosts. With ``QUOTA_SHARDS = S`` (more than
1), a key's day is counted in S rows instead, each with its own share of the daily limit
(``share``: the limit divided by S, the first ``limit % S`` shards one more), and its
usage rows are split the same way. A call takes one shard at random and, if that shard's
share is used up, tries the others (``order``); it is refused only when every shard
refused it. Each refusal saw a full shard, counts only go up, and the shares add up to
the limit: so a call is refused only once the whole limit is used, and never admitted
beyond it.

The day's shard count is fixed by its first admission, which always counts in shard 0 and
writes S there; every later call that day reads it back with the key (check.py). So a
change of ``QUOTA_SHARDS``, or workers that disagree during a deploy, take effect from
the next UTC day and never mix two splits in one day. Reports, billing and ``used_today``
add the shards up.

Pure: no Flask, no database."""
import random

MAX_SHARDS = 64


def configured(setting: int) -> int:
    """QUOTA_SHARDS as used: at least 1, at most MAX_SHARDS."""
    return min(max(1, setting), MAX_SHARDS)


def share(daily_limit: int, shards: int, shard: int) -> int:
    """Shard ``shard``'s part of ``daily_limit``; the parts add up to the limit."""
    return daily_limit // shards + (1 if shard < daily_limit % shards else 0)


def order(daily_limit: int, shards: int, first: int | None = None) -> list[int]:
    """The shards to try, in turn: ``first`` (random unless given), then the others in
    order; shards whose share is 0 (a limit below the shard count) are left out."""
    start = random.randrange(shards) if first is None else first
    turns = [(start + step) % shards for step in range(shards)]
    return [shard for shard in turns if share(daily_limit, shards, shard) > 0]
