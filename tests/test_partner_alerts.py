"""The partner web app shows its operator the latest quota alert (client/operator.py): the
API's signed webhooks arrive at ``POST /webhooks/storeprice``, are verified with
``standardwebhooks`` (client/webhooks.py, shared with ``python -m client alerts``),
recorded once per webhook-id in a JSON file (client/alert_file.py) and shown on
``/operator`` behind the operator's password. The last test runs it for real: the API
under gunicorn, the partner app under gunicorn, and ``flask webhooks deliver --once``."""
import base64
import html
import json
import logging
import multiprocessing
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from conftest import key_id, make_app, quota_used
from servers import ROOT, Gunicorn, free_port
from standardwebhooks.webhooks import Webhook

from app.keys import lifecycle
from client.alert_file import AlertFile
from client.web import create_web_app

SECRET = "whsec_" + base64.b64encode(b"partner-test-secret-32-bytes-long").decode()
PASSWORD = "operator-test-password"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"ops:{PASSWORD}".encode()).decode()}
TODAY = datetime.now(UTC).date().isoformat()
EXPECTED = "Quota alert: 90 % of today's 5,000 calls used (4,500) at 14:02 UTC"


def quota_event(threshold=90, used=4500, at=f"{TODAY}T14:02:31.123456Z", limit=5000):
    return {"type": "quota.threshold", "timestamp": at,
            "data": {"key_id": "kGrocery01", "owner": "FreshMart", "day": TODAY,
                     "threshold": threshold, "used": used, "daily_limit": limit}}


def signed(webhook_id, event, secret=SECRET, when=None):
    """(body, headers) as the API sends them, signed with standardwebhooks."""
    body = json.dumps(event).encode()
    when = when or datetime.now(UTC)
    return body, {"webhook-id": webhook_id, "webhook-timestamp": str(int(when.timestamp())),
                  "webhook-signature": Webhook(secret).sign(webhook_id, when, body),
                  "Content-Type": "application/json"}


def no_api():
    raise AssertionError("the webhook route and the operator page never call the API")


@pytest.fixture
def partner(monkeypatch, tmp_path):
    """The partner app with a webhook secret and an operator password; its test client."""
    monkeypatch.setenv("STOREPRICE_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("STOREPRICE_OPERATOR_PASSWORD", PASSWORD)
    monkeypatch.setenv("STOREPRICE_ALERT_FILE", str(tmp_path / "alerts.json"))
    return create_web_app(no_api).test_client()


def post(web, body, headers):
    return web.post("/webhooks/storeprice", data=body, headers=headers)


def operator_text(web) -> str:
    page = web.get("/operator", headers=AUTH)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    return html.unescape(page.get_data(as_text=True))


def test_a_signed_delivery_is_shown_to_the_operator(partner, caplog):
    caplog.set_level(logging.INFO)
    assert "No quota alert received." in operator_text(partner)
    answer = post(partner, *signed("msg_2aQm1", quota_event()))
    assert answer.status_code == 204
    text = operator_text(partner)
    assert EXPECTED in text and "<code>kGrocery01</code> (owner FreshMart)" in text
    # A retry of the earlier 80 % alert, arriving late, does not hide the 90 % one.
    assert post(partner, *signed("msg_1zzzz", quota_event(80, 4000, f"{TODAY}T11:00:00Z"))
                ).status_code == 204
    assert EXPECTED in operator_text(partner)
    # The operator's page is the operator's: no password, a wrong one, and no page at all.
    assert partner.get("/operator").status_code == 401
    wrong = base64.b64encode(b"ops:guess").decode()
    assert partner.get("/operator", headers={"Authorization": f"Basic {wrong}"}
                       ).status_code == 401
    assert SECRET not in caplog.text and PASSWORD not in caplog.text
    assert SECRET[6:] not in caplog.text


def test_a_forged_delivery_is_refused_and_shows_nothing(partner, caplog):
    body, headers = signed("msg_forged", quota_event(), secret="whsec_" + "A" * 44)
    assert post(partner, body, headers).status_code == 400   # another secret
    body, headers = signed("msg_altered", quota_event())
    assert post(partner, body.replace(b"4500", b"4999"), headers).status_code == 400
    old = datetime.now(UTC) - timedelta(minutes=10)  # a recorded one, replayed
    assert post(partner, *signed("msg_replay", quota_event(), when=old)).status_code == 400
    assert post(partner, b"{}", {}).status_code == 400       # no signature at all
    text = operator_text(partner)
    assert "No quota alert received." in text and "Quota alert:" not in text
    assert "webhook refused (400)" in caplog.text


def test_a_duplicate_webhook_id_is_recorded_once(partner, caplog, tmp_path):
    caplog.set_level(logging.INFO, logger="storeprice.shopper")
    delivery = signed("msg_dup", quota_event())
    assert [post(partner, *delivery).status_code for _ in range(3)] == [204, 204, 204]
    # Same id, other content (the API never does this; a duplicate is known by its id).
    assert post(partner, *signed("msg_dup", quota_event(100, 5000))).status_code == 204
    assert operator_text(partner).count("Quota alert:") == 1
    assert EXPECTED in operator_text(partner)
    assert caplog.text.count("webhook msg_dup received") == 1
    assert json.loads((tmp_path / "alerts.json").read_text())["seen"] == ["msg_dup"]


def test_without_a_secret_the_route_refuses(monkeypatch, tmp_path):
    monkeypatch.delenv("STOREPRICE_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("STOREPRICE_OPERATOR_PASSWORD", PASSWORD)
    monkeypatch.setenv("STOREPRICE_ALERT_FILE", str(tmp_path / "alerts.json"))
    web = create_web_app(no_api).test_client()
    assert post(web, *signed("msg_1", quota_event())).status_code == 404
    assert not (tmp_path / "alerts.json").exists()
    assert "Not receiving webhooks" in operator_text(web)
    monkeypatch.setenv("STOREPRICE_WEBHOOK_SECRET", "whsec_not base64!")  # unusable: 503
    web = create_web_app(no_api).test_client()
    assert post(web, *signed("msg_1", quota_event())).status_code == 503
    monkeypatch.delenv("STOREPRICE_OPERATOR_PASSWORD")   # no password: no operator page
    assert create_web_app(no_api).test_client().get("/operator", headers=AUTH
                                                    ).status_code == 404


def test_the_visitor_limits_never_block_the_api(partner):
    # The page allows one visitor 30 requests a minute; the API's deliveries (one address)
    # are not counted at all, and none of them spends an API call (no_api would raise).
    statuses = {post(partner, *signed(f"msg_{n}", quota_event(used=4500 + n))).status_code
                for n in range(100)}
    assert statuses == {204}
    assert partner.post("/webhooks/storeprice", data=b"x" * (65 * 1024),
                        headers={"webhook-id": "big"}).status_code == 413


def _record_many(path, first, count):
    alerts = AlertFile(path)
    for n in range(first, first + count):
        alerts.record(f"msg_{n}", quota_event(used=n, at=f"{TODAY}T10:00:{n % 60:02d}Z"))


def test_several_worker_processes_share_one_alert_file(tmp_path):
    """gunicorn workers are processes: each records into the same file under flock."""
    path = tmp_path / "alerts.json"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_record_many, args=(path, 60 * k, 60)) for k in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    state = json.loads(path.read_text())
    assert sorted(state["seen"]) == sorted(f"msg_{n}" for n in range(240))  # none lost
    assert state["alert"]["at"].endswith("10:00:59+00:00")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".alerts-")] == []


# --- for real: the API delivers to the running partner app -------------------------------

def test_the_api_delivers_a_quota_alert_to_the_running_partner_app(tmp_path):
    database = f"sqlite:///{tmp_path / 'api.db'}"
    api_app = make_app(database, RATELIMIT_STORAGE_URI="memory://")
    with api_app.app_context():
        _, manager = lifecycle.create_key("partner keys", owner="FreshMart", scopes=["keys"])
        _, grocery = lifecycle.create_key("grocery app", owner="FreshMart", scopes=["read"],
                                          daily_limit=10, rate_limit="1000/minute")
    env = {"DATABASE_URL": database, "RATELIMIT_STORAGE_URI": "memory://",
           "WEBHOOK_ALLOW_PRIVATE": "true", "WEBHOOK_RETRY_SCHEDULE": "1,1,1"}
    port = free_port()
    partner_url = f"http://127.0.0.1:{port}"
    with Gunicorn(env, workers=2) as api:
        # What the partner does once, with its keys-scope key: subscribe the app's URL.
        made = requests.post(f"{api}/v1/webhooks", headers={"X-API-Key": manager}, timeout=10,
                             json={"url": f"{partner_url}/webhooks/storeprice",
                                   "events": ["quota.threshold"]})
        assert made.status_code == 201, made.text
        hook, secret = made.json()["id"], made.json()["secret"]
        web = subprocess.Popen(
            [sys.executable, "-m", "client", "web", "--port", str(port)], cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT), "STOREPRICE_URL": api,
                 "STOREPRICE_API_KEY": grocery, "STOREPRICE_WEBHOOK_SECRET": secret,
                 "STOREPRICE_OPERATOR_PASSWORD": PASSWORD,
                 "STOREPRICE_ALERT_FILE": str(tmp_path / "alerts.json")},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for(f"{partner_url}/operator", web)
            for _ in range(9):   # 80 % at the 8th call, 90 % at the 9th
                assert requests.get(f"{api}/v1/items", headers={"X-API-Key": grocery},
                                    timeout=10).status_code == 200
            done = subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "webhooks",
                                   "deliver", "--once"], cwd=ROOT, env={**os.environ, **env},
                                  capture_output=True, timeout=60, check=False)
            assert done.returncode == 0, done.stderr.decode()
            page = html.unescape(requests.get(f"{partner_url}/operator", headers=AUTH,
                                              timeout=10).text)
            deliveries = requests.get(f"{api}/v1/webhooks/{hook}/deliveries",
                                      headers={"X-API-Key": manager}, timeout=10).json()
        finally:
            web.terminate()
            _, errors = web.communicate(timeout=30)
    assert "Quota alert: 90 % of today's 10 calls used (9) at " in page, page
    assert f"<code>{key_id(grocery)}</code> (owner FreshMart)" in page
    assert sorted(row["status"] for row in deliveries["data"]) == ["delivered", "delivered"]
    assert quota_used(api_app, grocery) == 9       # the partner app spent no call
    assert secret not in errors.decode() and grocery not in errors.decode()


def wait_for(url, process, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise AssertionError(f"the partner app did not start on {url}")
