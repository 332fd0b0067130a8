"""Under gunicorn as served: a call whose client hung up before the answer is never
billed; every log line (the app's, gunicorn's error and access logs) is one JSON object
and none holds key material, whatever a hostile client sends; several workers on
per-process limiter storage refuse to start."""
import json
import socket
import subprocess
import time
from urllib.parse import quote, unquote

import requests
from conftest import key_id, make_app
from servers import GUNICORN, ROOT, Gunicorn

from app.extensions import db
from app.keys import lifecycle
from app.keys.models import Usage


def books(app, key):
    with app.app_context():
        row = db.session.execute(db.select(
            db.func.sum(Usage.calls), db.func.sum(Usage.admitted), db.func.sum(Usage.units),
            db.func.sum(Usage.incomplete)).where(Usage.key_id == key_id(key))).one()
        db.engine.dispose()
    return tuple(int(n or 0) for n in row)


def hang_up(port: int, key: str) -> None:
    """Send a whole request and close at once, before any answer can arrive."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(f"GET /v1/items HTTP/1.1\r\nHost: x\r\nX-API-Key: {key}\r\n\r\n".encode())


def test_calls_whose_client_hung_up_are_never_billed(tmp_path):
    database = f"sqlite:///{tmp_path / 'hang.db'}"
    app = make_app(database)
    with app.app_context():
        _, key = lifecycle.create_key("impatient", daily_limit=1000, rate_limit="1000/minute")
    server = Gunicorn({"DATABASE_URL": database}, workers=2)
    with server as url:
        for _ in range(20):
            hang_up(server.port, key)
        for _ in range(5):
            assert requests.get(f"{url}/v1/items", headers={"X-API-Key": key},
                                timeout=10).status_code == 200
        time.sleep(1)  # the last hung-up calls finish
    # 25 admitted; the 5 answers received are billed, the 20 that nobody read are not
    assert books(app, key) == (25, 25, 5, 20)


def test_no_key_material_in_any_log_line_and_every_line_is_json(tmp_path):
    database = f"sqlite:///{tmp_path / 'logs.db'}"
    app = make_app(database)
    with app.app_context():
        _, admin = lifecycle.create_key("ops", scopes=["read", "admin"])
        _, leaked = lifecycle.create_key("leaked")
    secret = leaked.split("_", 2)[2]
    access_log = tmp_path / "access.log"
    server = Gunicorn({"DATABASE_URL": database, "LOG_LEVEL": "INFO"}, workers=1,
                      access_log=str(access_log))
    with server as url:
        headers = {"X-API-Key": admin}
        encoded_s = "%73" + leaked[1:]
        encoded_underscore = leaked.replace("_", "%5F")
        for path in (f"/v1/admin/keys/{leaked}/revoke", f"/v1/items?q={encoded_s}",
                     f"/v1/items?q={encoded_underscore}",
                     f"/v1/items?q={quote(quote(leaked, safe=''), safe='')}",
                     f"/v1/items?api_key={leaked}"):
            requests.post(f"{url}{path}", headers=headers, timeout=10) if "revoke" in path \
                else requests.get(f"{url}{path}", headers=headers, timeout=10)
        requests.get(f"{url}/v1/items", timeout=10,
                     headers={**headers, "Referer": f"https://x.example/?k={encoded_s}",
                              "User-Agent": leaked, "X-Request-ID": leaked})
        requests.get(f"{url}/v1/items", headers={"X-API-Key": leaked + "x"}, timeout=10)
        for raw in (f"GET /v1/items HTTP/1.1\r\nHost: x\r\n{leaked}(: 1\r\n\r\n",
                    f"GET /v1/items HTTP/1.1\r\nHost: x\r\n{leaked} : 1\r\n\r\n",
                    f"GET /{leaked} HTTP/1.1\r\nHost: x\r\n\r\n",
                    f"GET /v1/items?{leaked.replace('_', '&#95;')} HTTP/1.1\r\nHost: x\r\n\r\n"):
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                sock.sendall(raw.encode())
                try:
                    sock.recv(65536)
                except OSError:
                    pass
        time.sleep(0.5)
    server_log = server.process.stderr.read().decode()
    lines = [line for line in (server_log + access_log.read_text()).splitlines() if line]
    assert len(lines) >= 10  # request lines, access lines, gunicorn's own
    for line in lines:
        record = json.loads(line)  # every line is one JSON object
        assert {"ts", "level", "logger", "msg"} <= set(record), line
        assert secret[:12] not in line and secret[:12] not in unquote(unquote(line)), line
    assert any(json.loads(line).get("logger") == "app.keys.metering" for line in lines)
    assert any(json.loads(line).get("logger") == "gunicorn.access" for line in lines)


def test_several_workers_on_per_process_storage_refuse_to_start():
    env = {"PATH": "/usr/bin:/bin", "RATELIMIT_STORAGE_URI": "memory://"}
    started = subprocess.run(
        [str(GUNICORN), "--config", str(ROOT / "gunicorn.conf.py"), "--workers", "2",
         "--bind", "127.0.0.1:0"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60)
    assert started.returncode != 0
    last = started.stderr.strip().splitlines()[-1]
    assert last.startswith("error: 2 workers with per-process rate-limit storage")
    assert "RATELIMIT_ALLOW_PER_PROCESS=true" in last
