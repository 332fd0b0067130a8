"""A flood of bad keys from another client address, to measure what it costs good keys.

The attacker's requests leave from 127.0.0.2 (any 127.x address is the local machine), so
the app's per-IP failed-auth limit sees two different clients, as it would in production."""
import http.client
import threading
from collections import Counter
from contextlib import contextmanager
from urllib.parse import urlsplit

BAD_KEY = "spk_zzzzzzzz_" + "a" * 38  # well-formed, wrong checksum: the cheapest refusal
ATTACKER_ADDRESS = "127.0.0.2"


@contextmanager
def bad_key_flood(url: str, threads: int = 4):
    """Send bad keys from ATTACKER_ADDRESS until the block ends; yields the status counts."""
    parts = urlsplit(url)
    statuses, stop = Counter(), threading.Event()

    def attacker():
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10,
                                                source_address=(ATTACKER_ADDRESS, 0))
        while not stop.is_set():
            try:
                connection.request("GET", parts.path, headers={"X-API-Key": BAD_KEY})
                response = connection.getresponse()
                response.read()
                statuses[response.status] += 1
            except OSError:
                statuses["error"] += 1
                connection.close()

    workers = [threading.Thread(target=attacker, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    try:
        yield statuses
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=15)
