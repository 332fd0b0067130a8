"""Helpers for tests/test_fuzz.py: the OpenAPI document to fuzz, and how generated cases
are steered onto real catalogue rows and disposable keys."""
import copy
import functools
import zlib
from datetime import date, datetime, timezone
from decimal import ROUND_DOWN, Decimal
from dataclasses import dataclass
from typing import Callable

from app import create_app


def openapi_document() -> dict:
    """/openapi.json of the current code, read at collection time (the document does not
    depend on the database, so a throwaway app that never connects is enough).

    flask-smorest adds a ``default`` response to every operation. With it, schemathesis'
    status_code_conformance accepts *any* status and so proves nothing; it is removed here,
    so every operation must document each status it answers with."""
    return copy.deepcopy(_openapi_document())


@functools.cache
def _openapi_document() -> dict:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "LOG_LEVEL": "WARNING"})
    spec = app.test_client().get("/openapi.json").get_json()
    for path_item in spec["paths"].values():
        for operation in path_item.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].pop("default", None)
    return spec


# --- steering: reach the success paths, never touch the fuzz key ---------------------
#
# Random ids almost never name a row of the small catalogue (tests/conftest.py), so without
# help the 2xx answers of writes, the cheapest-stores query and the key lifecycle, and so
# their response schemas, would hardly ever be checked. In *positive* cases (schemathesis
# promises they are valid), half of the generated ids are therefore swapped for real ones,
# chosen deterministically from the generated value, and a row a body must refer to (a
# store's chain and country, an item's category) is always a real one: an unknown one is
# a 422 by design, which positive_data_acceptance would rightly report. Positive cases also
# keep the rules the document states in words because JSON Schema cannot (see
# ``keep_documented_rules``). Negative cases are sent as generated: steering could turn
# them valid.

REAL = {
    "store": ("us-cheapo-1", "us-posh-1", "us-cheapo-2", "jp-cheapo-1", "fr-posh-1"),
    "item": ("milk", "bread", "novel", "tshirt"),
    "country": ("US", "JP", "FR"),
    "category": ("dairy", "bakery", "books", "apparel"),
    "chain": ("cheapo", "posh"),
}
REAL["plan"] = ("free", "starter", "pro", "enterprise")  # seeded (app/keys/models.py)
REAL["store_id"], REAL["item_id"], REAL["plan_id"] = REAL["store"], REAL["item"], REAL["plan"]
ALWAYS_REAL_IN_BODIES = {"chain", "country", "category", "plan"}
# The (store, item) pairs with a price in the fuzz key's country: a path that names both
# (a price's PUT and DELETE) gets one of these half of the time, so a DELETE finds a price.
PRICED_IN_US = (("us-cheapo-1", "milk"), ("us-cheapo-1", "bread"), ("us-cheapo-1", "novel"),
                ("us-posh-1", "milk"), ("us-posh-1", "bread"), ("us-posh-1", "tshirt"),
                ("us-cheapo-2", "milk"))


def _pick(value, choices, always=False):
    """One of ``choices`` for half of the values (all if ``always``), else None (keep the
    generated value). crc32, not hash(): str hashes change from one process to the next."""
    digest = zlib.crc32(repr(value).encode("utf-8", "surrogatepass"))
    return choices[(digest >> 1) % len(choices)] if always or digest % 2 == 0 else None


def _steer_fields(mapping, in_body=False):
    if not isinstance(mapping, dict):
        return
    for name, value in list(mapping.items()):
        if name in REAL:
            always = in_body and name in ALWAYS_REAL_IN_BODIES
            mapping[name] = _pick(value, REAL[name], always) or value
        elif name == "items" and isinstance(value, str):  # GET /v1/cheapest-stores?items=a,b
            if _pick(value, (True,)):
                mapping[name] = ",".join(REAL["item"][: 1 + len(value) % 4])
        elif name == "items" and isinstance(value, list):  # the basket of the POST form
            if _pick(value, (True,)):
                mapping[name] = [{"item": item, "quantity": 1 + n} if n % 2 else item
                                 for n, item in enumerate(REAL["item"][: 1 + len(value) % 4])]
        elif isinstance(value, list):  # e.g. {"prices": [{"item": ...}, ...]}
            for entry in value:
                _steer_fields(entry, in_body)


def steer(case, fuzz_key_id: str, new_victim_key_id: Callable[[], str]) -> None:
    """Swap real ids into the path, query and JSON body of a positive ``case`` (see above).

    A ``key_id`` never names the fuzz key itself, so revoke, rotate, delete and patch
    cannot end the run: half of the key ids of positive cases, and any that collided with
    the fuzz key's, name a fresh disposable victim key instead. (Prune cannot reach the fuzz
    key either: it was created and used moments ago and ``unused_days`` is at least 1.)"""
    path = case.path_parameters
    positive = case.meta is None or case.meta.generation.mode.is_positive
    if path and "key_id" in path:
        if path["key_id"] == fuzz_key_id or (positive and _pick(path["key_id"], (True,))):
            path["key_id"] = new_victim_key_id()
    if positive and path and "id" in path and _pick(path["id"], (True,)):
        path["id"] = FUZZ_WEBHOOK_ID  # a webhook endpoint (and its delivery) that exist
        if "delivery_id" in path:
            path["delivery_id"] = FUZZ_DELIVERY_ID
    if not positive:
        return
    pair = None
    if path and {"store_id", "item_id"} <= set(path):
        pair = _pick((path["store_id"], path["item_id"]), PRICED_IN_US)
    _steer_fields(path)
    if pair:  # after the per-field steering, which picks each id on its own
        path["store_id"], path["item_id"] = pair
    _steer_fields(case.query)
    _steer_fields(case.body, in_body=True)
    keep_documented_rules(case)


FUZZ_WEBHOOK_ID, FUZZ_DELIVERY_ID = "wh_fuzz000000000001", "1"


def add_fuzz_webhook(owner: str) -> None:
    """The webhook endpoint (and one delivery) that steered cases name: the fuzz key's
    owner's, so that show, update, delete, deliveries and retry can answer 2xx."""
    from app.clock import utcnow
    from app.extensions import db
    from app.keys.webhooks import events
    from app.keys.webhooks.models import WebhookEndpoint
    db.session.add(WebhookEndpoint(id=FUZZ_WEBHOOK_ID, owner=owner, url="https://1.1.1.1/",
                                   events="key.rotated", secret="whsec_AAAA",
                                   created_at=utcnow()))
    db.session.flush()
    events.emit(db.session.connection(), "key.rotated", owner, None, utcnow(), {})
    db.session.commit()


# --- rules the document states in words ----------------------------------------------
#
# Each is enforced with a 422 and described in the operation's OpenAPI text; none can be
# written in JSON Schema (they compare two fields, or depend on the row a request names).

def keep_documented_rules(case) -> None:
    query, body = case.query or {}, case.body
    # GET /v1/admin/usage: `from` is not after `to`.
    if isinstance(query.get("from"), str) and isinstance(query.get("to"), str) \
            and query["from"] > query["to"]:
        query["from"], query["to"] = query["to"], query["from"]
    # ... nor after the default `to`, today (UTC).
    if isinstance(query.get("from"), str) and "to" not in query \
            and query["from"] > datetime.now(timezone.utc).date().isoformat():
        query["to"] = query["from"]
    # near-me: radius_km only with a centre (near).
    if "radius_km" in query and "near" not in query:
        query["near"] = "42.3601,-71.0589"
    if isinstance(body, dict) and "radius_km" in body and "near" not in body:
        body["near"] = {"lat": 42.3601, "lon": -71.0589}
    # GET /v1/cheapest-stores: the items are distinct.
    if isinstance(query.get("items"), str):
        query["items"] = ",".join(dict.fromkeys(query["items"].split(",")))
    if isinstance(body, dict) and case.method in ("POST", "PATCH") \
            and case.operation.path.endswith(("/keys", "/keys/{key_id}")):
        # Keys made or changed over HTTP lie within the fuzz key's bounds (country US).
        if case.method == "POST" or "countries" in body:
            body["countries"] = ["US"]
        # A new expiry must come after the key's not_before, the stored one too: a
        # generated not_before may be centuries away, so the change clears it.
        if case.method == "PATCH" and isinstance(body.get("expires_in"), str):
            body.setdefault("not_before", None)
    if isinstance(body, dict):
        # Keys: not_before comes before the expiry (the stored one too): no expiry then.
        if isinstance(body.get("not_before"), str):
            body["expires_in"] = None
        if isinstance(body.get("plan"), str) and body["plan"] not in REAL["plan"]:
            body["plan"] = _pick(body["plan"], REAL["plan"], always=True)  # a plan that exists
        if isinstance(body.get("items"), list):  # POST /v1/cheapest-stores: distinct items
            seen, distinct = set(), []
            for entry in body["items"]:
                item = entry.get("item") if isinstance(entry, dict) else entry
                if item not in seen:
                    seen.add(item)
                    distinct.append(entry)
            body["items"] = distinct
        # Webhooks: an https URL to a public address (a private one is a 422, as described).
        if isinstance(body.get("url"), str):
            body["url"] = "https://1.1.1.1/hook"
        if isinstance(body.get("allowed_ips"), list):  # keys: IPv4/IPv6 networks (CIDR)
            body["allowed_ips"] = [NETWORKS[zlib.crc32(repr(entry).encode("utf-8",
                                                                          "surrogatepass"))
                                            % len(NETWORKS)] for entry in body["allowed_ips"]]
        if isinstance(body.get("prices"), list):  # a price batch: each item once
            body["prices"] = list({entry.get("item") if isinstance(entry, dict) else repr(entry):
                                   entry for entry in body["prices"]}.values())
        prices = body.get("prices") if isinstance(body.get("prices"), list) else [body]
        for entry in prices:
            _valid_price(entry)


NETWORKS = ("203.0.113.0/24", "198.51.100.7", "2001:db8::/32", "127.0.0.1")
USD_MAX = Decimal("21474836.47")  # the fuzz key sees US stores only: 2 minor digits


def _valid_price(entry) -> None:
    """A price (and regular price) in the store's currency (USD: 2 decimals, > 0, within
    the 32-bit column); a regular price above the price; a promotion only with one, and
    ending today or later."""
    if not isinstance(entry, dict):
        return
    for name in ("price", "regular_price"):
        if isinstance(entry.get(name), str):
            amount = Decimal(entry[name]).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
            entry[name] = str(min(max(amount, Decimal("0.01")), USD_MAX))
    regular, price = entry.get("regular_price"), entry.get("price")
    if isinstance(regular, str) and isinstance(price, str) \
            and Decimal(regular) <= Decimal(price):
        entry["regular_price"] = None
    if entry.get("promo_ends") is not None and entry.get("regular_price") is None:
        entry["promo_ends"] = None
    # promo_ends is today or later (a promotion in the past is over already): none instead.
    if isinstance(entry.get("promo_ends"), str) \
            and entry["promo_ends"] < date.today().isoformat():
        entry["promo_ends"] = None


@dataclass(frozen=True)
class LoggedError:
    """An ERROR the app logged during a call whose answer did not show it (e.g. metering
    that failed behind a good response): a failure of its own in the fuzz run."""
    message: str
    exception: str


def backend_of(app) -> str:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    return "postgres" if url.startswith("postgres") else "sqlite"
