"""Connections shared fairly between one server's workers.

Every worker of a gunicorn server waits on the same listening socket, and the kernel gives
a new connection to whichever worker calls ``accept`` first. Nothing in that is fair: when
clients open their connections in a burst and keep them alive (a partner's connection
pool, a load generator), one worker can end up holding most or all of them while the
others idle, and that instance then serves what one process can (gunicorn issues #2817,
#3433). Measured here with two workers and 32 kept-alive connections, the split ranged
from 16/16 to 32/0, and throughput with it by 2x.

So the workers publish how many connections each holds, in a small table of shared memory
created by the master before it forks them. A worker takes a new connection only while it
holds fewer than the least-loaded *other* live worker plus ``SLACK``; the least-loaded
worker always qualifies, so some worker always accepts. A worker that has not updated its
row for ``STALE`` seconds (hung, killed, stopping) is left out of the comparison, so a
dead worker's low count never makes the others wait. A worker that stepped back looks
again every ``PAUSED_TICK`` seconds, not once a second.

Without a free row (more than ``SLOTS`` workers) a worker simply accepts, as gunicorn
does by default."""
import multiprocessing
import os
import time

SLOTS = 64           # workers of one server that take part (more simply accept freely)
SLACK = 2            # how many more connections than the least-loaded worker are fine
STALE = 1.5          # seconds without an update: that worker is left out
PAUSED_TICK = 0.05   # seconds between looks of a worker that stepped back

# Created on import, which happens in gunicorn's master (it loads the worker class), so
# every worker forked from it shares the same memory.
_pids = multiprocessing.RawArray("i", SLOTS)
_connections = multiprocessing.RawArray("i", SLOTS)
_updated = multiprocessing.RawArray("d", SLOTS)  # time.monotonic(): one clock per host
_claiming = multiprocessing.Lock()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # no signal sent: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user
        pass
    return True


def claim_slot() -> int | None:
    """A row for this process: a free one, or one whose worker is gone."""
    if not _claiming.acquire(timeout=1):  # a worker killed while claiming: go without
        return None
    try:
        for slot in range(SLOTS):
            pid = _pids[slot]
            if pid == 0 or pid == os.getpid() or not _alive(pid):
                _pids[slot], _connections[slot] = os.getpid(), 0
                _updated[slot] = time.monotonic()
                return slot
        return None
    finally:
        _claiming.release()


def fair_share(slot: int | None, configured: int) -> int:
    """How many connections the worker in ``slot`` may hold right now."""
    if slot is None:
        return configured
    moment = time.monotonic()
    pids, connections, updated = _pids[:], _connections[:], _updated[:]
    others = [connections[row] for row in range(SLOTS)
              if row != slot and pids[row] and moment - updated[row] < STALE]
    return min(configured, min(others) + SLACK) if others else configured


class FairAccept:
    """Mixed into gunicorn's ThreadWorker (app/serving.py's ProblemWorker). gthread's
    loop already stops accepting while ``nr_conns >= worker_connections``; here that
    limit is the fair share, and ``nr_conns`` is published as it changes."""

    _slot = None
    _own_connections = 0

    @property
    def nr_conns(self) -> int:
        return self._own_connections

    @nr_conns.setter
    def nr_conns(self, value: int) -> None:
        self._own_connections = value
        if self._slot is not None:
            _connections[self._slot] = value

    @property
    def worker_connections(self) -> int:
        return fair_share(self._slot, self._configured_connections)

    @worker_connections.setter
    def worker_connections(self, value: int) -> None:
        self._configured_connections = value

    def init_process(self):
        self._slot = claim_slot()  # in the worker, after the fork
        self.nr_conns = self._own_connections
        super().init_process()

    def notify(self):
        """Called on every turn of the worker's loop: the row is fresh while it runs."""
        super().notify()
        if self._slot is not None:
            _updated[self._slot] = time.monotonic()

    def wait_for_and_dispatch_events(self, timeout):
        if self.alive and not self._accepting:  # stepped back: look again soon
            timeout = min(timeout, PAUSED_TICK)
        super().wait_for_and_dispatch_events(timeout)

    def handle_exit(self, sig, frame):
        """Stopping: leave the comparison at once, so nobody waits for this worker."""
        if self._slot is not None:
            _pids[self._slot] = 0
        super().handle_exit(sig, frame)
