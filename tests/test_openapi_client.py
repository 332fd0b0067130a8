"""A client that nobody here wrote: openapi-python-client generates one from the served
/openapi.json into a temporary folder, and the partner flow and the admin flow run through
it, reading typed models (the basket's two-store plan is a ``Plan``, not a dict) and the
CSV report as text. If the document and the server disagree, this is where it shows."""
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from test_client import api_server  # noqa: F401 (a fixture: a served app with a catalogue)

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "storeprice_generated"


@pytest.fixture(scope="module")
def generated(api_server, tmp_path_factory):  # noqa: F811
    folder = tmp_path_factory.mktemp("generated")
    spec = folder / "openapi.json"
    spec.write_text(json.dumps(requests.get(api_server.url + "/openapi.json", timeout=5).json()))
    # ruff (a dependency of the generator) formats the code: it must be on the PATH.
    env = {**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(spec), "--meta", "none",
         "--output-path", str(folder / PACKAGE)],
        capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def api(generated, name):
    return importlib.import_module(f"{generated.__name__}.api.{name}")


def client_for(generated, url, key):
    return generated.AuthenticatedClient(base_url=url, token=key, prefix="",
                                         auth_header_name="X-API-Key",
                                         raise_on_unexpected_status=True)


def test_partner_flow(generated, api_server):  # noqa: F811
    models = importlib.import_module(f"{PACKAGE}.models")
    partner = client_for(generated, api_server.url,
                         api_server.key(countries=["US"], categories=["dairy", "bakery"]))

    me = api(generated, "account.show_calling_key").sync(client=partner)
    assert isinstance(me, models.CallerKey)
    assert me.scopes == [models.CallerKeyScopesItem.READ]
    assert me.countries == ["US"] and me.status == models.CallerKeyStatus.ACTIVE
    assert me.today.remaining == me.daily_limit - me.today.used

    items = api(generated, "catalogue.list_items").sync(client=partner, q="milk")
    assert isinstance(items, models.ItemPage)
    assert [item.id for item in items.data] == ["milk"] and items.total == 1

    stores = api(generated, "catalogue.list_stores").sync(client=partner, country="US")
    assert {store.id for store in stores.data} == {"us-cheapo-1", "us-posh-1", "us-cheapo-2"}

    basket = models.CheapestQuery(
        items=["milk", models.CheapestQueryBasketLine(item="bread", quantity=2)],
        country="US", max_stores=2)
    answer = api(generated, "cheapest.post_cheapest_stores").sync(client=partner, body=basket)
    assert isinstance(answer, models.CheapestAnswer)
    assert isinstance(answer.plan, models.Plan)  # typed, not a dict
    plan = {stop.store: stop.items for stop in answer.plan.stores}
    assert plan == {"us-cheapo-2": ["milk"], "us-posh-1": ["bread"]}
    assert answer.plan.total == "7.87" and answer.plan.exact is True  # 1.89 + 2 × 2.99
    assert answer.stores[0].lines[0].unit_price

    single = api(generated, "cheapest.post_cheapest_stores").sync(
        client=partner, body=models.CheapestQuery(items=["milk"], max_stores=1))
    assert single.plan is None and single.country == "US"  # the key's only country

    deals = api(generated, "catalogue.list_deals").sync(client=partner)
    assert isinstance(deals, models.DealPage)
    assert [(deal.store, deal.item) for deal in deals.data] == [("us-posh-1", "milk")]

    outside = api(generated, "catalogue.list_stores").sync(client=partner, country="FR")
    assert isinstance(outside, models.Problem) and outside.type_ == "/problems/restricted"


def test_admin_flow(generated, api_server):  # noqa: F811
    models = importlib.import_module(f"{PACKAGE}.models")
    admin = client_for(generated, api_server.url, api_server.key(scopes=["read", "write", "admin"]))

    created = api(generated, "admin.create_key").sync(client=admin, body=models.KeyCreate(
        name="generated", scopes=[models.KeyCreateScopesItem.READ], countries=["US"],
        daily_limit=50))
    assert isinstance(created, models.NewKey) and created.key.startswith("spk_")
    new = client_for(generated, api_server.url, created.key)
    assert api(generated, "account.show_calling_key").sync(client=new).id == created.id

    rotated = api(generated, "admin.rotate_key").sync(
        created.id, client=admin, body=models.RotateArgs(grace="1h"))
    assert isinstance(rotated, models.NewKey) and rotated.key != created.key
    old = api(generated, "account.show_calling_key").sync_detailed(client=new)
    assert old.status_code == 200 and old.headers["Deprecation"].startswith("@")

    revoked = api(generated, "admin.revoke_key").sync(created.id, client=admin)
    assert isinstance(revoked, models.Key) and revoked.status == models.KeyStatus.REVOKED
    refused = api(generated, "account.show_calling_key").sync(
        client=client_for(generated, api_server.url, rotated.key))
    assert isinstance(refused, models.Problem) and refused.type_ == "/problems/revoked-key"

    deleted = api(generated, "admin.delete_key").sync_detailed(created.id, client=admin)
    assert deleted.status_code == 204
    gone = api(generated, "admin.show_key").sync(created.id, client=admin)
    assert isinstance(gone, models.Problem) and gone.status == 404

    csv_text = api(generated, "admin.usage_report_csv").sync(client=admin)
    assert isinstance(csv_text, str)
    header, *rows = csv_text.splitlines()
    assert header.startswith("key_id,day,endpoint,calls") and rows
    assert any(row.startswith(f"{created.id},") for row in rows)

    report = api(generated, "admin.usage_report").sync(client=admin)
    assert isinstance(report, models.ReportAnswer) and report.billing


SENT_ONLY_WITH_NEAR = ("distance_km", "note")  # optional in the document, on purpose


def unset_fields(model, types, path="") -> list[str]:
    """Every attribute of a generated model, nested ones too, that came back Unset."""
    import attrs
    if isinstance(model, list):
        return [f for n, entry in enumerate(model) for f in unset_fields(entry, types,
                                                                         f"{path}[{n}]")]
    if not attrs.has(type(model)):
        return []
    found = []
    for field in attrs.fields(type(model)):
        if field.name in ("additional_properties", *SENT_ONLY_WITH_NEAR):
            continue
        value = getattr(model, field.name)
        if isinstance(value, types.Unset):
            found.append(f"{path}.{field.name}")
        else:
            found += unset_fields(value, types, f"{path}.{field.name}")
    return found


def test_answers_have_no_unset_fields(generated, api_server):  # noqa: F811
    """What the server always sends is required in the document, so a generated client
    types it as a value, never ``X | Unset``: the answers of the README's calls, the
    partner's self-service and the admin reports, read whole."""
    types = importlib.import_module(f"{PACKAGE}.types")
    models = importlib.import_module(f"{PACKAGE}.models")
    admin = client_for(generated, api_server.url, api_server.key(scopes=["read", "write", "admin"]))
    manager = client_for(generated, api_server.url, api_server.key(
        scopes=["read", "keys"], countries=["US"], owner="Acme"))
    made = api(generated, "self_service.create_own_key").sync(
        client=manager, body=models.KeyCreate(name="feed", countries=["US"],
                                              scopes=[models.KeyCreateScopesItem.READ]))
    assert isinstance(made, models.NewKey) and made.owner == "Acme"
    answers = {
        "key": api(generated, "account.show_calling_key").sync(client=manager),
        "usage": api(generated, "account.show_usage").sync(client=manager),
        "own keys": api(generated, "self_service.list_own_keys").sync(client=manager),
        "made": made,
        "items": api(generated, "catalogue.list_items").sync(client=admin),
        "stores": api(generated, "catalogue.list_stores").sync(client=admin),
        "prices": api(generated, "catalogue.list_prices").sync(client=admin),
        "keys": api(generated, "admin.list_keys").sync(client=admin),
        "owners": api(generated, "owners.list_owners").sync(client=admin),
        "report": api(generated, "admin.usage_report").sync(client=admin),
        "anomalies": api(generated, "admin.anomalies").sync(client=admin),
        "plans": api(generated, "plans.list_plans").sync(client=admin),
        "review": api(generated, "plans.review").sync(client=admin),
        "audit": api(generated, "plans.audit_trail").sync(client=admin),
    }
    for name, answer in answers.items():
        assert not isinstance(answer, models.Problem), (name, answer)
        assert unset_fields(answer, types) == [], name
