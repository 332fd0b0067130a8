"""Helpers for tests/test_fuzz.py: the OpenAPI document to fuzz, and how generated cases
are steered onto real catalogue rows and disposable keys."""
import copy
import functools
import zlib
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
# their response schemas, would hardly ever be checked. Half of the generated ids/codes are
# therefore swapped for real ones, chosen deterministically from the generated value.

REAL = {
    "store": ("us-cheapo-1", "us-posh-1", "us-cheapo-2", "jp-cheapo-1", "fr-posh-1"),
    "item": ("milk", "bread", "novel", "tshirt"),
    "country": ("US", "JP", "FR"),
    "category": ("dairy", "bakery", "books", "apparel"),
    "chain": ("cheapo", "posh"),
}
REAL["plan"] = ("free", "starter", "pro", "enterprise")  # seeded (app/keys/models.py)
REAL["store_id"], REAL["item_id"], REAL["plan_id"] = REAL["store"], REAL["item"], REAL["plan"]


def _pick(value, choices):
    """One of ``choices`` for half of the values, else None (keep the generated value).
    crc32, not hash(): str hashes change from one process to the next."""
    digest = zlib.crc32(repr(value).encode("utf-8", "surrogatepass"))
    return choices[(digest >> 1) % len(choices)] if digest % 2 == 0 else None


def _steer_fields(mapping):
    if not isinstance(mapping, dict):
        return
    for name, value in list(mapping.items()):
        if name in REAL:  # any type: Store.chain is untyped in the document (rarely a str)
            mapping[name] = _pick(value, REAL[name]) or value
        elif name == "items" and isinstance(value, str):  # GET /v1/cheapest-stores?items=a,b
            if _pick(value, (True,)):
                mapping[name] = ",".join(REAL["item"][: 1 + len(value) % 4])
        elif name == "items" and isinstance(value, list):  # the basket of the POST form
            if _pick(value, (True,)):
                mapping[name] = [{"item": item, "quantity": 1 + n} if n % 2 else item
                                 for n, item in enumerate(REAL["item"][: 1 + len(value) % 4])]
        elif isinstance(value, list):  # e.g. {"prices": [{"item": ...}, ...]}
            for entry in value:
                _steer_fields(entry)


def steer(case, fuzz_key_id: str, new_victim_key_id: Callable[[], str]) -> None:
    """Swap real ids into the path, query and JSON body of ``case`` (see above).

    A ``key_id`` never names the fuzz key itself, so revoke, rotate, delete and patch
    cannot end the run: half of the key ids, and any that collided with the fuzz key's,
    name a fresh disposable victim key instead. (Prune cannot reach the fuzz key either:
    it was created and used moments ago and ``unused_days`` is at least 1.)"""
    path = case.path_parameters
    if path and "key_id" in path:
        if path["key_id"] == fuzz_key_id or _pick(path["key_id"], (True,)):
            path["key_id"] = new_victim_key_id()
    _steer_fields(path)
    _steer_fields(case.query)
    _steer_fields(case.body)


@dataclass(frozen=True)
class LoggedError:
    """An ERROR the app logged during a call whose answer did not show it (e.g. metering
    that failed behind a good response): a failure of its own in the fuzz run."""
    message: str
    exception: str


def backend_of(app) -> str:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    return "postgres" if url.startswith("postgres") else "sqlite"
