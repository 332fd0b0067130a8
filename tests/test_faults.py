"""Faults: the database or the limiter storage goes away, and comes back."""
import logging
import socket
import threading
import time

import pytest
from conftest import TEST_DATABASE_URL, make_app


@pytest.mark.parametrize("mode, status", [("closed", 503), ("open", 200)])
def test_limiter_storage_down_follows_the_configured_mode(tmp_path, mode, status, caplog):
    app = make_app(f"sqlite:///{tmp_path / 'x.db'}",
                   RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",  # nothing listens there
                   RATELIMIT_FAILURE_MODE=mode)
    from app.keys import lifecycle
    with app.app_context():
        _, key = lifecycle.create_key("x")
    with caplog.at_level(logging.WARNING, logger="storeprice"):
        response = app.test_client().get("/v1/key", headers={"X-API-Key": key})
    assert response.status_code == status
    if mode == "closed":
        assert response.json["type"] == "/problems/unavailable"
        assert response.headers["Retry-After"] == "5"
        assert "failing closed" in caplog.text
    else:
        assert response.json["today"]["used"] == 1  # the daily quota still counted
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
    """A switchable TCP relay in front of PostgreSQL, to cut the database off and back."""

    def __init__(self, target_port=5432):
        self.target_port = target_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.open, self.sockets = True, []
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
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self):
        self.open = False
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.sockets = []

    def restore(self):
        self.open = True


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL to cut PostgreSQL off")
def test_database_outage_is_503_and_recovers_without_restart():
    from sqlalchemy.engine import make_url
    url = make_url(TEST_DATABASE_URL)
    relay = TcpRelay(url.port or 5432)
    app = make_app(url.set(host="127.0.0.1", port=relay.port).render_as_string(False))
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
