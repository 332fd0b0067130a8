"""The served configuration (gunicorn.conf.py) under real gunicorn: what gunicorn answers
itself is problem+json with an X-Request-ID, bodies over the limit or cut short are
problems too, slow clients cannot stall the server, and the access log never records a key.

Requests are written byte by byte on raw sockets: the point is what an HTTP library would
refuse to send."""
import json
import select
import socket
import threading
import time

import pytest
import requests
from conftest import make_app
from servers import Gunicorn

BODY_TIMEOUT = 3  # seconds, for the served configuration under test
WORKERS = 2


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One gunicorn as gunicorn.conf.py serves it (2 workers), a key, the access log."""
    folder = tmp_path_factory.mktemp("served")
    database = f"sqlite:///{folder / 'served.db'}"
    app = make_app(database)
    from app.keys import lifecycle
    with app.app_context():
        _, key = lifecycle.create_key("served", daily_limit=10**6, rate_limit="100000/minute")
    access_log = folder / "access.log"
    server = Gunicorn({"DATABASE_URL": database, "BODY_TIMEOUT": str(BODY_TIMEOUT),
                       "REQUEST_READ_TIMEOUT": str(BODY_TIMEOUT)},
                      workers=WORKERS, access_log=str(access_log))
    with server as url:
        yield {"url": url, "port": server.port, "key": key, "access_log": access_log,
               "database": database}


def exchange(port: int, raw: bytes, shut_write=False, timeout=15.0) -> bytes:
    """Send raw bytes, read the whole answer (gunicorn closes after its own answers)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        if shut_write:
            sock.shutdown(socket.SHUT_WR)
        return read_answer(sock)


def read_answer(sock) -> bytes:
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
        if answer_is_complete(data):
            break
    return data


def answer_is_complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def parse(answer: bytes):
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {name.strip().lower(): value.strip()
               for name, _, value in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def assert_problem(answer: bytes, status: int, type_: str) -> dict:
    got, headers, body = parse(answer)
    assert got == status, answer[:300]
    assert headers["content-type"] == "application/problem+json", headers
    assert headers.get("x-request-id"), headers
    problem = json.loads(body)
    assert problem["type"] == f"/problems/{type_}" and problem["status"] == status
    assert problem["instance"] == headers["x-request-id"]
    assert b"<html" not in answer.lower()
    return problem


def request(method: str, path: str, headers: dict, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in
                                                            headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# --- what gunicorn answers itself ------------------------------------------------------

def test_request_line_too_long_is_a_414_problem(served):
    raw = request("GET", "/v1/items?q=" + "a" * 5000, {})
    problem = assert_problem(exchange(served["port"], raw), 414, "uri-too-long")
    assert "4094" in problem["detail"]


def test_request_line_at_the_limit_reaches_the_app(served):
    path = "/v1/items?q="
    path += "a" * (4094 - len(f"GET {path} HTTP/1.1"))
    raw = request("GET", path, {"X-API-Key": served["key"]})
    assert parse(exchange(served["port"], raw))[0] == 422  # the app's answer: q is too long


@pytest.mark.parametrize("headers", [
    {"X-Big": "b" * 9000},                               # one header over 8190 bytes
    {f"X-Many-{n}": "x" for n in range(120)},            # more than 100 headers
])
def test_headers_too_large_are_a_431_problem(served, headers):
    assert_problem(exchange(served["port"], request("GET", "/healthz", headers)), 431,
                   "headers-too-large")


@pytest.mark.parametrize("raw", [
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: one\rtwo\r\n\r\n",       # CR in a value
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: one\ntwo\r\n\r\n",       # bare LF
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Name: x\r\n\r\n",           # space in a name
    b"POST /v1/cheapest-stores HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    b"X-API-Key: {key}\r\nContent-Type: application/json\r\n\r\n"
    b"zz\r\n{}\r\n0\r\n\r\n",                                             # bad chunk size
])
def test_malformed_requests_are_a_400_problem(served, raw):
    raw = raw.replace(b"{key}", served["key"].encode())
    assert_problem(exchange(served["port"], raw), 400, "bad-request")


# --- bodies: over the limit, cut short, too slow --------------------------------------

def test_chunked_body_over_the_limit_is_a_413_problem(served):
    chunk = b"x" * 8192
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(10)) + b"0\r\n\r\n"
    raw = request("POST", "/v1/cheapest-stores", {
        "X-API-Key": served["key"], "Content-Type": "application/json",
        "Transfer-Encoding": "chunked"}, body)
    assert_problem(exchange(served["port"], raw), 413, "payload-too-large")


def test_incomplete_body_is_a_400_problem(served):
    raw = request("POST", "/v1/cheapest-stores", {
        "X-API-Key": served["key"], "Content-Type": "application/json",
        "Content-Length": "100"}, b'{"items": [')
    assert_problem(exchange(served["port"], raw, shut_write=True), 400, "bad-request")


def test_slow_bodies_do_not_stall_the_server_and_get_a_408(served):
    """Two clients per worker send their headers, then dribble a body that never ends."""
    raw = request("POST", "/v1/cheapest-stores", {
        "X-API-Key": served["key"], "Content-Type": "application/json",
        "Content-Length": "1000"})
    answers = []

    def dribble():
        with socket.create_connection(("127.0.0.1", served["port"]), timeout=30) as sock:
            sock.sendall(raw)
            for _ in range(900):  # one byte every 0.2 s until the server answers
                if select.select([sock], [], [], 0.2)[0]:
                    break
                try:
                    sock.sendall(b" ")
                except OSError:
                    break
            answers.append(read_answer(sock))

    slow = [threading.Thread(target=dribble) for _ in range(2 * WORKERS)]
    started = time.monotonic()
    for thread in slow:
        thread.start()
    time.sleep(0.5)  # they are all in, holding a thread each
    delays = []
    while time.monotonic() - started < BODY_TIMEOUT - 0.5:
        moment = time.monotonic()
        assert requests.get(served["url"] + "/healthz", timeout=5).status_code == 200
        delays.append(time.monotonic() - moment)
        time.sleep(0.1)
    for thread in slow:
        thread.join(timeout=BODY_TIMEOUT + 10)
    assert delays and max(delays) < 1.0, delays
    assert len(answers) == 2 * WORKERS
    for answer in answers:
        assert_problem(answer, 408, "request-timeout")
    assert time.monotonic() - started < BODY_TIMEOUT + 5  # cut off on time, not later


def test_forty_slow_headers_and_forty_slow_bodies_do_not_delay_a_normal_call(served):
    """80 clients, five times the served threads (2 workers x 8): 40 send a header line
    every half second and never finish their header block, 40 send whole headers and
    dribble their body. Normal keyed calls meanwhile answer within 1 s, and every slow
    client gets its 408 problem within the read deadline."""
    head = b"GET /v1/items HTTP/1.1\r\nHost: test\r\n"
    body_head = request("POST", "/v1/cheapest-stores", {
        "X-API-Key": served["key"], "Content-Type": "application/json",
        "Content-Length": "1000"})
    answers, ready = [], threading.Barrier(81, timeout=30)

    def slow(first: bytes, more: bytes):
        with socket.create_connection(("127.0.0.1", served["port"]), timeout=30) as sock:
            sock.sendall(first)
            ready.wait()
            for _ in range(120):  # until the server answers or closes
                if select.select([sock], [], [], 0.5)[0]:
                    break
                try:
                    sock.sendall(more)
                except OSError:
                    break
            answers.append(read_answer(sock))

    clients = [threading.Thread(target=slow, args=(head, b"X-Slow: 1\r\n")) for _ in range(40)]
    clients += [threading.Thread(target=slow, args=(body_head, b" ")) for _ in range(40)]
    for client in clients:
        client.start()
    ready.wait()
    started, delays = time.monotonic(), []
    while time.monotonic() - started < BODY_TIMEOUT - 0.5:
        moment = time.monotonic()
        response = requests.get(served["url"] + "/v1/key", timeout=5,
                                headers={"X-API-Key": served["key"]})
        assert response.status_code == 200
        delays.append(time.monotonic() - moment)
        time.sleep(0.1)
    for client in clients:
        client.join(timeout=BODY_TIMEOUT + 10)
    assert len(delays) >= 10 and max(delays) < 1.0, delays
    assert len(answers) == 80
    for answer in answers:
        assert_problem(answer, 408, "request-timeout")
    assert time.monotonic() - started < BODY_TIMEOUT + 3  # the deadline, and about a second


# --- the access log -------------------------------------------------------------------

def test_access_log_never_records_a_key(served):
    key, url = served["key"], served["url"]
    # The README's key-in-query request, and the same key in a referer and its header.
    refused = requests.get(f"{url}/v1/items?api_key={key}", timeout=5)
    assert refused.status_code == 400
    assert refused.json()["type"] == "/problems/key-in-query"
    requests.get(f"{url}/v1/items?q=milk&token={key}", timeout=5)
    requests.get(f"{url}/v1/items", headers={"X-API-Key": key,
                                             "Referer": f"https://a.example/?key={key}"},
                 timeout=5)
    secret = key.split("_")[2]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the log is written as each answer goes out
        log = served["access_log"].read_text()
        if log.count("/v1/items") >= 3:
            break
        time.sleep(0.1)
    assert log.count("/v1/items") >= 3, log
    assert secret not in log and key not in log
    assert "api_key=[redacted]" in log and "token=[redacted]" in log


def test_a_format_that_prints_the_key_header_still_shows_no_key(served, tmp_path):
    """An operator's own access_log_format may print any header: the key's stays out."""
    log_file = tmp_path / "access.log"
    fmt = '%({x-api-key}i)s "%(r)s" %({X-Api-Key}i)s %({referer}i)s'
    server = Gunicorn({"DATABASE_URL": served["database"],
                       "GUNICORN_CMD_ARGS": f"--access-logformat '{fmt}'"},
                      workers=1, access_log=str(log_file))
    with server as url:
        assert requests.get(f"{url}/v1/key", timeout=5, headers={
            "X-API-Key": served["key"], "Referer": f"https://a.example/?key={served['key']}"},
        ).status_code == 200
        deadline = time.monotonic() + 5
        while "/v1/key" not in log_file.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
    log = log_file.read_text()
    assert "/v1/key" in log and log.count("[redacted]") >= 3, log
    assert served["key"].split("_")[2] not in log and key_id_of(served["key"]) not in log


def key_id_of(key: str) -> str:
    return key.split("_")[1]
