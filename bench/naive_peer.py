"""The naive peer: what a Flask tutorial would write for the same job, over the project's own
database (same tables, same keys, same data), so a benchmark compares like with like.

- key check: split the key id out of the header, ORM-free select of the row, SHA-256 compare;
- limits: flask-limiter decorators, "<daily> per day;<minute> per minute" per key, memory://
  (per process: NOT exact across workers, which is the weakness the project must not have);
- metering: one usage upsert + commit per call;
- /v1/key: the key row as JSON; /v1/cheapest-stores: top-5 single stores carrying the whole
  basket, aggregated in SQL (no plan, no per-item answer, no lines).
It is the bench's yardstick, not the project's code: nothing in app/ imports it. Run from the
repository root: DATABASE_URL=sqlite:///... gunicorn -w 2 bench.naive_peer:app (the project
venv has every import). The key row's restrictions (a JSON column: countries, chains) are
read and answered as stored, as a tutorial would."""
import datetime
import hashlib
import hmac
import os

from flask import Flask, abort, g, jsonify, request
from flask_limiter import Limiter
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import bindparam, text

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
db = SQLAlchemy(app)
PEPPER = os.environ.get("KEY_PEPPER", "")
KEY_ROW = text("SELECT id, secret_hash, scopes, restrictions, daily_limit, rate_limit, revoked_at "
               "FROM api_keys WHERE id = :id")
USAGE = text("CREATE TABLE IF NOT EXISTS peer_usage(key_id TEXT, day TEXT, n INTEGER, "
             "PRIMARY KEY(key_id, day))")
UPSERT = text("INSERT INTO peer_usage(key_id, day, n) VALUES (:k, :d, 1) "
              "ON CONFLICT(key_id, day) DO UPDATE SET n = peer_usage.n + 1")


def _hash(key):
    if PEPPER:
        return hmac.new(PEPPER.encode(), key.encode(), hashlib.sha256).digest()
    return hashlib.sha256(key.encode()).digest()


def key_id_func():
    return request.headers.get("X-API-Key", "")[4:12]


limiter = Limiter(key_func=key_id_func, app=app, storage_uri="memory://")
with app.app_context():
    db.session.execute(USAGE)
    db.session.commit()


@app.before_request
def check_key():
    raw = request.headers.get("X-API-Key", "")
    if not raw.startswith("spk_"):
        abort(401)
    row = db.session.execute(KEY_ROW, {"id": raw[4:12]}).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(_hash(raw), row.secret_hash):
        abort(401)
    if "read" not in row.scopes.split(","):
        abort(403)
    g.key = row


def key_limits():
    daily, minute = g.key.daily_limit or 1000000, g.key.rate_limit or "600000/minute"
    return f"{daily} per day;{minute.replace('/', ' per ')}"


def meter():
    db.session.execute(UPSERT, {"k": g.key.id, "d": datetime.date.today().isoformat()})
    db.session.commit()


@app.get("/v1/key")
@limiter.limit(key_limits)
def whoami():
    meter()
    k = g.key
    return jsonify(id=k.id, scopes=k.scopes.split(","), restrictions=k.restrictions,
                   daily_limit=k.daily_limit, rate_limit=k.rate_limit)


CHEAPEST = text(
    "SELECT s.slug, s.name, SUM(p.amount) AS total FROM prices p "
    "JOIN items i ON i.id = p.item_id JOIN stores s ON s.id = p.store_id "
    "WHERE i.slug IN :items AND s.country = :country "
    "GROUP BY s.id HAVING COUNT(*) = :n ORDER BY total, s.slug LIMIT :limit"
).bindparams(bindparam("items", expanding=True))


@app.post("/v1/cheapest-stores")
@limiter.limit(key_limits)
def cheapest():
    body = request.get_json(silent=True) or {}
    items = body.get("items") or []
    if not 1 <= len(items) <= 100 or not body.get("country"):
        abort(422)
    meter()
    rows = db.session.execute(CHEAPEST, {"items": items, "country": body["country"],
                                         "n": len(items), "limit": body.get("limit", 5)}).all()
    return jsonify(country=body["country"],
                   stores=[{"store": r[0], "name": r[1], "total": r[2]} for r in rows])


ITEMS = text("SELECT slug, name, category, size, unit FROM items ORDER BY slug LIMIT :n")
COUNT = text("SELECT COUNT(*) FROM items")


@app.get("/v1/items")
@limiter.limit(key_limits)
def items():
    meter()
    n = min(int(request.args.get("per_page", 50)), 100)
    rows = db.session.execute(ITEMS, {"n": n}).all()
    return jsonify(data=[{"id": r[0], "name": r[1], "category": r[2], "size": r[3], "unit": r[4]}
                         for r in rows], page=1, per_page=n,
                   total=db.session.execute(COUNT).scalar())
