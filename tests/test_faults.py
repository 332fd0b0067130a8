"""Faults: the database or the limiter storage goes away, and comes back."""
import logging
import socket
import threading
import time

import pytest
from conftest import TEST_DATABASE_URL, TEST_REDIS_URL, make_app
from sqlalchemy import text


@pytest.mark.parametrize("mode, status", [("closed", 503), ("open", 200)])
def test_limiter_storage_down_follows_the_configured_mode(tmp_path, mode, status, caplog):
    app = make_app(f"sqlite:///{tmp_path / 'x.db'}",
                   RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",  # nothing listens there
                   RATELIMIT_FAILURE_MODE=mode)
    from app.keys import lifecycle
    with app.app_context():
        _, key = lifecycle.create_key("x")
    with caplog.at_level(logging.WARNING, logger="storeprice"):
        response = app.test_client().get("/v1/items", headers={"X-API-Key": key})
    assert response.status_code == status
    if mode == "closed":
        assert response.json["type"] == "/problems/unavailable"
        assert response.headers["Retry-After"] == "5"
        assert "failing closed" in caplog.text
    else:
        assert response.headers["RateLimit"].startswith('"daily";r=999;')  # still counted
        assert "failing open" in caplog.text


def test_limiter_storage_that_stops_answering_times_out_into_the_failure_mode(tmp_path):
    """A Redis host that accepts connections and then says nothing (a network partition)
    must not hang the request: RATELIMIT_STORAGE_TIMEOUT, then the failure mode."""
    silent = socket.create_server(("127.0.0.1", 0))  # the kernel accepts; nobody answers
    app = make_app(f"sqlite:///{tmp_path / 'x.db'}",
                   RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
    from app.keys import lifecycle
    with app.app_context():
        _, key = lifecycle.create_key("x")
    answers = []
    caller = threading.Thread(target=lambda: answers.append(
        app.test_client().get("/v1/key", headers={"X-API-Key": key})), daemon=True)
    started = time.monotonic()
    caller.start()
    caller.join(timeout=5)
    assert answers, "the request hung on a silent Redis"
    assert time.monotonic() - started < 3  # 0.5 s by default
    assert answers[0].status_code == 503
    assert answers[0].json["type"] == "/problems/unavailable"
    silent.close()


class TcpRelay:
    """A switchable TCP relay in front of PostgreSQL: ``cut()`` closes every connection and
    refuses new ones; ``silence()`` keeps them open but forwards nothing (a partition: the
    kernel still acknowledges, nobody answers); ``cut_before(marker, nth)`` cuts when a
    client sends ``marker`` for the nth time, without forwarding it; ``restore()``."""

    def __init__(self, target_port=5432):
        self.target_port = target_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.open, self.silent, self.sockets = True, False, []
        self.trigger = None  # [marker, occurrences left]
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.sockets += [client, upstream]
            for source, sink, watch in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pipe, args=(source, sink, watch),
                                 daemon=True).start()

    def _pipe(self, source, sink, watch):
        try:
            while data := source.recv(65536):
                while self.silent:  # hold the bytes: the peer hears nothing
                    time.sleep(0.01)
                if watch and self._triggered(data):
                    self.cut()
                    return
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _triggered(self, data: bytes) -> bool:
        with self.lock:
            if self.trigger is None:
                return False
            self.trigger[1] -= data.count(self.trigger[0])
            if self.trigger[1] > 0:
                return False
            self.trigger = None
            return True

    def cut_before(self, marker: bytes, nth: int = 1):
        with self.lock:
            self.trigger = [marker, nth]

    def cut(self):
        self.open = False
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.sockets = []

    def silence(self):
        self.silent = True

    def restore(self):
        self.open, self.silent = True, False


def relayed_url(relay) -> str:
    from sqlalchemy.engine import make_url
    return make_url(TEST_DATABASE_URL).set(host="127.0.0.1", port=relay.port) \
        .render_as_string(False)


def pg_port() -> int:
    from sqlalchemy.engine import make_url
    return make_url(TEST_DATABASE_URL).port or 5432


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL to cut PostgreSQL off")
def test_database_outage_is_503_and_recovers_without_restart():
    relay = TcpRelay(pg_port())
    app = make_app(relayed_url(relay))
    from app.keys import lifecycle
    with app.app_context():
        _, key = lifecycle.create_key("x")
    client = app.test_client()
    headers = {"X-API-Key": key}
    assert client.get("/v1/key", headers=headers).status_code == 200
    relay.cut()
    for url_path in ("/healthz", "/v1/key"):
        down = client.get(url_path, headers=headers)
        assert down.status_code == 503, down.get_data(as_text=True)
        assert down.json["type"] == "/problems/unavailable"
    relay.restore()
    assert client.get("/healthz").status_code == 200
    assert client.get("/v1/key", headers=headers).status_code == 200


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL to silence PostgreSQL")
def test_a_silent_database_is_503_within_the_timeout_and_recovers_without_restart():
    """The relay keeps every connection open and forwards nothing: without a deadline on
    each wait, libpq would wait forever. DATABASE_TIMEOUT=2: each answer within 3 s."""
    relay = TcpRelay(pg_port())
    app = make_app(relayed_url(relay), DATABASE_TIMEOUT=2)
    from app.keys import lifecycle
    with app.app_context():
        _, key = lifecycle.create_key("x")
    client = app.test_client()
    headers = {"X-API-Key": key}
    assert client.get("/v1/items", headers=headers).status_code == 200  # pooled connections
    relay.silence()
    for url_path in ("/healthz", "/v1/key", "/v1/items", "/healthz"):
        started = time.monotonic()
        down = client.get(url_path, headers=headers)
        assert time.monotonic() - started < 3, url_path
        assert down.status_code == 503, down.get_data(as_text=True)
        assert down.mimetype == "application/problem+json"
        assert down.json["type"] == "/problems/unavailable"
    relay.restore()
    assert client.get("/healthz").status_code == 200
    assert client.get("/v1/key", headers=headers).json["today"]["used"] == 1
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL to cut PostgreSQL off")
def test_a_database_lost_in_teardown_never_replaces_the_answer_nor_bills_it(tmp_path):
    """Under gunicorn: the relay cuts PostgreSQL off just before the completion's COMMIT,
    after the answer is built. The client still gets its 200 JSON answer (not gunicorn's
    HTML 500); the books say admitted, incomplete, billed nothing."""
    import requests
    from servers import Gunicorn

    from app.extensions import db
    from app.keys import lifecycle
    from app.keys.models import Usage
    relay = TcpRelay(pg_port())
    app = make_app(TEST_DATABASE_URL)
    with app.app_context():
        _, key = lifecycle.create_key("x", daily_limit=100)
    env = {"DATABASE_URL": relayed_url(relay), "RATELIMIT_STORAGE_URI": "memory://"}
    with Gunicorn(env, workers=1) as url:
        headers = {"X-API-Key": key}
        assert requests.get(f"{url}/v1/items", headers=headers, timeout=10).status_code == 200
        # That call is completed once its answer was written (app/keys/delivery.py): let
        # its COMMIT pass before the relay counts the next call's.
        with app.app_context():
            for _ in range(50):
                if db.session.execute(db.select(db.func.sum(Usage.incomplete))).scalar() == 0:
                    break
                db.session.rollback()
                time.sleep(0.1)
        relay.cut_before(b"COMMIT\x00", 2)  # the admission's commit, then the completion's
        answer = requests.get(f"{url}/v1/items", headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.json()["data"] == []
        deadline = time.monotonic() + 10
        while relay.trigger is not None and time.monotonic() < deadline:
            time.sleep(0.05)  # the completion's COMMIT comes after the answer was written
        assert relay.trigger is None  # it came, and was cut
        relay.restore()
        assert requests.get(f"{url}/healthz", timeout=10).status_code == 200  # recovered
    with app.app_context():
        rows = db.session.execute(db.select(Usage.calls, Usage.admitted, Usage.units,
                                            Usage.incomplete, Usage.status_2xx)).all()
        used = db.session.execute(text("SELECT used FROM daily_quota")).scalar()
        db.engine.dispose()
    assert [tuple(row) for row in rows] == [(2, 2, 1, 1, 1)] and used == 2


@pytest.mark.skipif(not TEST_REDIS_URL, reason="set TEST_REDIS_URL to cut Redis off")
@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL to run on PostgreSQL"))])
def test_books_stay_exact_through_a_redis_outage_under_gunicorn(tmp_path, database):
    """Redis refused, then silent, then back, under 2 workers: every 503 came before
    admission, so the books equal what the clients received, call for call."""
    import redis
    import requests
    from concurrent.futures import ThreadPoolExecutor
    from conftest import key_id, quota_used
    from servers import Gunicorn
    from sqlalchemy.engine import make_url

    from app.extensions import db
    from app.keys import lifecycle
    from app.keys.models import Usage
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    redis_url = make_url(TEST_REDIS_URL.replace("redis://", "postgresql://"))
    relay = TcpRelay(redis_url.port or 6379)
    database_url = TEST_DATABASE_URL if database == "postgres" else f"sqlite:///{tmp_path / 'r.db'}"
    app = make_app(database_url)
    with app.app_context():
        _, key = lifecycle.create_key("x", daily_limit=1000, rate_limit="10000/minute")
    env = {"DATABASE_URL": database_url,
           "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{relay.port}/{redis_url.database}"}
    received = []

    def calls(count):
        def one(_):
            answer = requests.get(f"{url}/v1/items", headers={"X-API-Key": key}, timeout=30)
            return answer.status_code, answer.json()["type"] if answer.status_code != 200 else None
        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(one, range(count)))
    with Gunicorn(env, workers=2) as url:
        received += calls(12)
        relay.cut()
        down = calls(8)
        relay.restore()
        received += calls(4)
        relay.silence()
        started = time.monotonic()
        silent = calls(4)
        assert time.monotonic() - started < 8  # 0.5 s per call, four at a time
        relay.restore()
        received += calls(12)
    assert set(received) == {(200, None)}
    assert set(down + silent) == {(503, "/problems/unavailable")}
    with app.app_context():
        books = db.session.execute(db.select(
            db.func.sum(Usage.calls), db.func.sum(Usage.admitted), db.func.sum(Usage.units),
            db.func.sum(Usage.incomplete), db.func.sum(Usage.status_2xx),
            db.func.sum(Usage.status_5xx)).where(Usage.key_id == key_id(key))).one()
        db.engine.dispose()
    assert tuple(books) == (40, 28, 28, 0, 28, 12)
    assert quota_used(app, key) == 28
