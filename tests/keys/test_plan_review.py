"""The plan review: per-plan figures and per-key upgrade/downgrade suggestions, from
histories built for the purpose (pure statistics first, then through the database, the
admin API and the CLI), and the seeded demo history."""
import csv
import io
from datetime import datetime, time, timedelta

import pytest
from conftest import key_id

from app.clock import utcnow
from app.extensions import db
from app.keys.models import ApiKey, DailyQuota, Usage
from app.keys.plan_review import KeyHistory, PlanTerms, analyse, percentile, suggestion

PLANS = [PlanTerms("free", 1000, 0), PlanTerms("starter", 5000, 300_000),
         PlanTerms("pro", 20000, 500_000), PlanTerms("enterprise", 100000, 800_000)]


def history(plan, daily_use, limit=None, **kw):
    limit = limit or next(p.daily_limit for p in PLANS if p.id == plan)
    return KeyHistory("k1", plan, limit, tuple(daily_use), **kw)


def test_percentile_is_nearest_rank():
    assert percentile([], 0.95) == 0
    assert percentile([5], 0.5) == 5
    values = list(range(1, 21))  # 1..20
    assert percentile(values, 0.50) == 10 and percentile(values, 0.95) == 19
    assert percentile(values, 1.0) == 20


def test_exactly_three_days_at_the_limit_is_an_upgrade_two_is_not():
    three = suggestion(history("starter", [5000, 5000, 5000] + [100] * 27), PLANS, 30)
    assert three["action"] == "upgrade" and three["suggested_plan"] == "pro"
    assert three["reason"] == ("It hit its daily limit of 5000 calls on 3 of the last 30 "
                               "days; plan 'pro' allows 20000 a day.")
    assert suggestion(history("starter", [5000, 5000, 4999] + [3000] * 27), PLANS, 30) is None


def test_upgrade_on_the_biggest_plan_says_so():
    top = suggestion(history("enterprise", [100000] * 5), PLANS, 30)
    assert top["action"] == "upgrade" and top["suggested_plan"] is None
    assert "no plan allows more" in top["reason"]


def test_an_override_below_the_plan_suggests_the_next_plan_up():
    tiny = suggestion(history("free", [5] * 10, limit=5), PLANS, 30)
    assert (tiny["action"], tiny["suggested_plan"]) == ("upgrade", "starter")


def test_downgrade_to_the_cheapest_plan_that_fits_at_half():
    # p95 of 2500 fits starter (5000) at exactly 50 %; free (1000) does not.
    use = [2500] * 3 + [100] * 37  # nearest rank: the 38th of 40 values
    down = suggestion(history("enterprise", use), PLANS, 40)
    assert (down["action"], down["suggested_plan"]) == ("downgrade", "starter")
    assert down["reason"] == ("On its busiest days (p95) it used 2500 calls, 50% of the 5000 "
                              "a day of plan 'starter', which costs $0.30 instead of $0.80 "
                              "per 1,000 units.")
    assert suggestion(history("enterprise", [2501] * 40), PLANS, 40)["suggested_plan"] == "pro"
    assert suggestion(history("pro", [0] * 30), PLANS, 30)["suggested_plan"] == "free"


def test_no_cheaper_plan_no_downgrade():
    assert suggestion(history("free", [0] * 30), PLANS, 30) is None
    assert suggestion(history("starter", [600] * 30), PLANS, 30) is None  # free at 60 %


def test_inactive_keys_get_no_suggestion():
    assert suggestion(history("pro", [0] * 30, active=False), PLANS, 30) is None


def test_plan_figures():
    keys = [KeyHistory("a", "starter", 5000, (5000, 2500, 0, 5000), calls=12600,
                       units=12000, priced_units=((12000, 300_000),)),
            KeyHistory("b", "starter", 10000, (400, 400), calls=800, units=800,
                       priced_units=((800, 300_000),))]
    review = analyse(PLANS, keys, 4)
    starter = next(p for p in review["plans"] if p["plan"] == "starter")
    # fractions: 1, .5, 0, 1, .04, .04 -> sorted 0, .04, .04, .5, 1, 1
    assert starter == {"plan": "starter", "keys": 2, "calls": 13400, "units": 12800,
                       "revenue": "3.84", "days_at_limit_share": round(2 / 6, 4),
                       "p50_daily_use": 0.04, "p95_daily_use": 1.0}
    assert next(p for p in review["plans"] if p["plan"] == "pro") == {
        "plan": "pro", "keys": 0, "calls": 0, "units": 0, "revenue": "0.00",
        "days_at_limit_share": 0.0, "p50_daily_use": 0, "p95_daily_use": 0}
    # "a": only 2 days at the limit; "b": p95 of 400 fits free's 1000 at 40 %.
    assert [(s["key"], s["action"]) for s in review["suggestions"]] == [("b", "downgrade")]


def test_revenue_is_what_was_billed_at_each_price():
    """Units metered before a price change (or on another plan) keep the price they were
    metered at, as in the billing report: not the plan's price today."""
    moved = KeyHistory("a", "pro", 20000, (100, 100), calls=200, units=200,
                       priced_units=((100, 300_000), (100, 500_000)))  # from starter
    pro = next(p for p in analyse(PLANS, [moved], 2)["plans"] if p["plan"] == "pro")
    assert pro["units"] == 200 and pro["revenue"] == "0.08"  # $0.03 + $0.05, not $0.10


def put_history(app, full_key, daily, created_days_ago=30):
    """daily: calls admitted per day, oldest first, ending yesterday; metered at the
    key's plan price."""
    today = utcnow().date()
    with app.app_context():
        key = db.session.get(ApiKey, key_id(full_key))
        key.created_at = datetime.combine(today - timedelta(days=created_days_ago), time.min)
        for offset, used in enumerate(reversed(daily), start=1):
            day = today - timedelta(days=offset)
            db.session.add(DailyQuota(key_id=key.id, day=day, used=used))
            db.session.add(Usage(key_id=key.id, hour=datetime.combine(day, time(9)),
                                 endpoint="GET /v1/items", calls=used, units=used,
                                 status_2xx=used, price_per_1000_units_micros=key
                                 .plan_row.price_per_1000_units_micros))
        db.session.commit()


def test_review_over_http_and_cli_from_a_built_history(app, client, make_key):
    admin = make_key(scopes=["read", "write", "admin"], name="admin")  # free, no use
    busy = make_key(plan="starter")
    idle = make_key(plan="pro")
    gone = make_key(plan="pro")
    put_history(app, busy, [5000] * 3 + [1000] * 26)
    put_history(app, idle, [300] * 29)
    put_history(app, gone, [20000] * 29)
    client.delete(f"/v1/admin/keys/{key_id(gone)}", headers={"X-API-Key": admin})

    response = client.get("/v1/admin/plan-review?days=30", headers={"X-API-Key": admin})
    assert response.status_code == 200
    review = response.json
    assert review["days"] == 30
    assert set(review["plans"][0]) == {"plan", "keys", "calls", "units", "revenue",
                                       "days_at_limit_share", "p50_daily_use",
                                       "p95_daily_use"}
    by_plan = {p["plan"]: p for p in review["plans"]}
    # The deleted key has no plan any more: left out of the figures and suggestions.
    assert by_plan["pro"]["keys"] == 1 and by_plan["pro"]["units"] == 300 * 29
    assert by_plan["pro"]["revenue"] == "4.35"  # 8,700 units at $0.50
    assert by_plan["starter"]["units"] == 3 * 5000 + 26 * 1000
    assert by_plan["starter"]["days_at_limit_share"] == round(3 / 30, 4)  # 30 key-days
    assert by_plan["free"]["keys"] == 1 and by_plan["free"]["calls"] == 2  # the admin's
    assert [(s["key"], s["action"], s["suggested_plan"]) for s in review["suggestions"]] \
        == sorted([(key_id(busy), "upgrade", "pro"), (key_id(idle), "downgrade", "free")])

    window = client.get("/v1/admin/plan-review?days=25", headers={"X-API-Key": admin}).json
    assert key_id(busy) not in [s["key"] for s in window["suggestions"]]  # its 3 days fell out
    bad = client.get("/v1/admin/plan-review?days=0", headers={"X-API-Key": admin})
    assert bad.status_code == 422 and "days" in bad.json["errors"]

    runner = app.test_cli_runner()
    text = runner.invoke(args=["usage", "plans", "--days", "30"]).output
    assert f"{key_id(busy)}  upgrade starter -> pro:" in text
    assert f"{key_id(idle)}  downgrade pro -> free:" in text
    rows = list(csv.DictReader(io.StringIO(runner.invoke(
        args=["usage", "plans", "--csv"]).output)))
    assert [r["plan"] for r in rows] == ["free", "starter", "pro", "enterprise"]
    assert rows[2]["revenue"] == "4.35"


def test_after_a_price_change_the_review_and_the_bill_agree(app, client, make_key):
    """29 days metered at pro's $0.50, then pro costs $1.00 and the key makes 3 calls:
    the review's revenue for pro is what the billing report charges, at both prices."""
    admin = make_key(scopes=["read", "write", "admin"], name="admin")
    headers = {"X-API-Key": admin}
    key = make_key(plan="pro")
    put_history(app, key, [1000] * 29)
    changed = client.patch("/v1/admin/plans/pro", headers=headers,
                           json={"price_per_1000_units": "1.00"})
    assert changed.status_code == 200, changed.json
    for _ in range(3):
        assert client.get("/v1/items", headers={"X-API-Key": key}).status_code == 200
    review = client.get("/v1/admin/plan-review?days=30", headers=headers).json
    pro = next(p for p in review["plans"] if p["plan"] == "pro")
    bill = client.get("/v1/admin/usage?from=" + (utcnow().date() - timedelta(days=29))
                      .isoformat(), headers=headers).json["billing"]
    charged = next(row for row in bill if row["key_id"] == key_id(key))["amount_usd"]
    assert pro["units"] == 29 * 1000 + 3
    assert pro["revenue"] == charged == "14.50"  # 29,000 at $0.50 + 3 at $1.00, rounded


@pytest.mark.parametrize("history_days", [30, 0])
def test_seed_writes_a_history_that_shows_an_upgrade_and_a_downgrade(tmp_path, history_days):
    from flask_migrate import upgrade
    from app import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'seed.db'}",
                      "LOG_LEVEL": "WARNING"})
    with app.app_context():
        upgrade()
    runner = app.test_cli_runner()
    args = ["seed", "--stores", "3", "--items", "20", "--history-days", str(history_days)]
    with app.app_context():  # `flask seed` runs in one; the test runner does not push it
        assert runner.invoke(args=args).exit_code == 0
        from app.keys.plan_review import review
        first = review(30)
        days_by_key = dict(db.session.execute(
            db.select(ApiKey.name, db.func.count(DailyQuota.day))
            .join(DailyQuota, DailyQuota.key_id == ApiKey.id).group_by(ApiKey.name)).all())
        span = db.session.execute(db.select(db.func.min(DailyQuota.day),
                                            db.func.max(DailyQuota.day))).one()
    today = utcnow().date()
    if history_days:
        for name in ("demo grocery-app", "demo partner-write", "demo tiny-quota"):
            assert days_by_key[name] == 30, name  # a call on every one of the 30 days
        # The 30 days before today; today's quotas are left whole for the walkthrough.
        assert (str(span[0])[:10], str(span[1])[:10]) \
            == (str(today - timedelta(days=30)), str(today - timedelta(days=1)))
    else:
        assert days_by_key == {}
    actions = {s["action"] for s in first["suggestions"]}
    if history_days:
        assert actions == {"upgrade", "downgrade"}
        with app.app_context():  # deterministic: the same figures again
            assert runner.invoke(args=args).exit_code == 0
            again = review(30)
        assert again["plans"] == first["plans"]
    else:  # unused keys on paid plans could go cheaper, but nothing hit a limit
        assert actions == {"downgrade"}
    with app.app_context():
        db.engine.dispose()


def test_seeded_keys_were_last_used_at_their_last_recorded_call(tmp_path):
    """`keys prune --unused-days 7` right after `make run` keeps every key the usage report
    shows busy in those 7 days: the history sets last_used_at as metering would have."""
    from flask_migrate import upgrade
    from app import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'seed.db'}",
                      "LOG_LEVEL": "WARNING"})
    runner = app.test_cli_runner()
    with app.app_context():
        upgrade()
        assert runner.invoke(args=["seed", "--stores", "3", "--items", "20"]).exit_code == 0
        last_call = dict(db.session.execute(db.select(Usage.key_id, db.func.max(Usage.hour))
                                            .group_by(Usage.key_id)).all())
        keys = {key.id: key for key in db.session.scalars(db.select(ApiKey))}
        assert {kid: keys[kid].last_used_at for kid in last_call} == last_call
        names = {keys[kid].name for kid in last_call}
        week_ago = utcnow() - timedelta(days=7)
        busy = {kid for kid, hour in last_call.items() if hour >= week_ago}
        result = runner.invoke(args=["keys", "prune", "--unused-days", "7"])
        assert result.exit_code == 0, result.output
        left = set(db.session.scalars(db.select(ApiKey.id)))
        db.engine.dispose()
    assert {"demo grocery-app", "demo partner-write", "demo tiny-quota"} <= names
    assert busy and busy <= left
