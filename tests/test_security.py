"""Secrets never leak, and a flood of bad keys cannot lock out good ones."""
import http.client
import logging
import threading
import time

from conftest import fresh_window, key_id, make_app
from servers import Gunicorn

from app.keys import format as keyformat


def test_no_secret_in_logs_admin_answers_or_error_bodies(app, client, catalogue, make_key,
                                                         caplog):
    admin = make_key(scopes=["read", "write", "admin"])
    victim = make_key(countries=["US"], daily_limit=1)
    secret = victim.split("_")[2]
    bodies = []
    with caplog.at_level(logging.DEBUG):
        for method, url, headers in [
            ("GET", "/v1/key", {"X-API-Key": victim}),
            ("GET", "/v1/stores?country=FR", {"X-API-Key": victim}),     # 403 (counted)
            ("GET", "/v1/items", {"X-API-Key": victim}),                 # 429 (quota)
            ("GET", f"/v1/items?api_key={victim}", {}),                  # 400
            ("GET", "/v1/key", {"X-API-Key": victim[:-1] + ("y" if victim.endswith("x")
                                                            else "x")}),  # 401
            ("GET", f"/v1/admin/keys/{key_id(victim)}", {"X-API-Key": admin}),
            ("GET", "/v1/admin/keys", {"X-API-Key": admin}),
            ("GET", "/v1/admin/usage?format=csv", {"X-API-Key": admin}),
        ]:
            response = client.open(url, method=method, headers=headers)
            bodies.append(response.get_data(as_text=True) + str(response.headers))
        cli_output = app.test_cli_runner().invoke(args=["keys", "list"]).output
    assert secret not in "".join(bodies) + cli_output
    # Every field of every record, not only its message: the JSON lines carry them all.
    logged = caplog.text + " ".join(str(record.__dict__) for record in caplog.records)
    assert secret not in logged
    assert key_id(victim) in logged  # the public id is what logs carry


def test_secret_comparison_is_constant_time():
    import inspect
    source = inspect.getsource(keyformat.matches) + inspect.getsource(keyformat.parse_key)
    assert source.count("hmac.compare_digest") == 2


def raw_get(path, key, source_ip):
    """One request from a chosen loopback source address (a different client IP)."""
    connection = http.client.HTTPConnection("127.0.0.1", raw_get.port, timeout=30,
                                            source_address=(source_ip, 0))
    try:
        connection.request("GET", path, headers={"X-API-Key": key})
        return connection.getresponse().status
    finally:
        connection.close()


def test_flood_of_bad_keys_from_one_ip_does_not_lock_out_another(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "AUTH_FAILURE_LIMIT": "20/minute"}
    app = make_app(env["DATABASE_URL"])
    from app.keys import lifecycle
    with app.app_context():
        _, good = lifecycle.create_key("good", daily_limit=10000, rate_limit="10000/minute")
    bad = keyformat.generate_key("zzzzzzzz")
    flood_statuses, stop = [], threading.Event()

    with Gunicorn(env, workers=2) as url:
        raw_get.port = int(url.rsplit(":", 1)[1])
        fresh_window(needed=15)  # the flood must not straddle a reset of its failure budget

        def flood():
            while not stop.is_set():
                flood_statuses.append(raw_get("/v1/key", bad, "127.0.0.2"))

        attackers = [threading.Thread(target=flood) for _ in range(4)]
        for thread in attackers:
            thread.start()
        time.sleep(0.5)
        good_statuses = [raw_get("/v1/key", good, "127.0.0.1") for _ in range(50)]
        stop.set()
        for thread in attackers:
            thread.join()
    assert good_statuses == [200] * 50
    # Throttled per IP: only the first 20 failures got a 401 (per worker, since memory://
    # counters are per process; Redis makes it 20 in total), the rest a 429.
    assert flood_statuses.count(401) <= 40 and flood_statuses.count(429) > 0
    assert set(flood_statuses) <= {401, 429}
