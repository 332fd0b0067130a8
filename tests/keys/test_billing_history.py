"""Past bills never change: each usage row records the unit price in force when it was
metered, so a window's bill is the same before and after the key moves to another plan
and its old plan's price changes; calls after the change are billed at the new price."""
from datetime import timedelta

from conftest import key_id

from app.clock import utcnow

LAST_MONTH = utcnow().replace(day=1, hour=12, minute=0) - timedelta(days=10)


def billing(client, admin, **window):
    answer = client.get("/v1/admin/usage", headers=admin, query_string=window)
    assert answer.status_code == 200, answer.json
    return {row["key_id"]: row for row in answer.json["billing"]}


def test_last_months_bill_is_unchanged_by_a_plan_move_and_a_price_change(app, client,
                                                                         make_key):
    admin = {"X-API-Key": make_key(scopes=["read", "admin"], name="admin")}
    key = make_key(plan="pro", name="partner")
    assert client.patch("/v1/admin/plans/pro", headers=admin,
                        json={"price_per_1000_units": "100"}).status_code == 200  # $0.10 a call
    clock = {"now": LAST_MONTH}
    app.config["CLOCK"] = lambda: clock["now"]
    for _ in range(7):
        assert client.get("/v1/items", headers={"X-API-Key": key}).status_code == 200
    start = LAST_MONTH.date().replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    window = {"from": str(start), "to": str(end)}
    clock["now"] = utcnow()
    before = billing(client, admin, **window)[key_id(key)]
    assert (before["units"], before["amount_usd"]) == (7, "0.70")
    # The key moves to free, and pro's price goes to 0: last month's bill stands.
    moved = client.patch(f"/v1/admin/keys/{key_id(key)}", headers=admin, json={"plan": "free"})
    assert moved.status_code == 200 and moved.json["plan"] == "free"
    repriced = client.patch("/v1/admin/plans/pro", headers=admin,
                            json={"price_per_1000_units": "0"})
    assert repriced.status_code == 200
    assert billing(client, admin, **window)[key_id(key)] == {**before, "plan": "free"}
    # Today's calls are billed at free's price (0), in their own rows.
    assert client.get("/v1/items", headers={"X-API-Key": key}).status_code == 200
    today = billing(client, admin, **{"from": str(utcnow().date()), "to": str(utcnow().date())})
    assert (today[key_id(key)]["units"], today[key_id(key)]["amount_usd"]) == (1, "0.00")
    assert billing(client, admin, **window)[key_id(key)] == {**before, "plan": "free"}
