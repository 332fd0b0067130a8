"""The key layer in another API: a key made with the CLI calls the notes endpoints with
every check of the layer (scope, the notes' own `topics` restriction, the daily limit),
its problems and headers, and the marketplace is nowhere."""
import sys


def test_the_recipe_path(app, client, create_key):
    key = create_key("--name", "N", "--scopes", "read,write", "--topics", "work",
                     "--daily-limit", "3")
    assert key["topics"] == ["work"] and key["key"].startswith(f"nts_{key['id']}_")
    headers = {"X-API-Key": key["key"]}
    written = client.post("/v1/notes", headers=headers, json={"topic": "work", "text": "hi"})
    assert written.status_code == 201 and written.json["topic"] == "work"
    listed = client.get("/v1/notes", headers=headers)
    assert listed.status_code == 200 and [n["text"] for n in listed.json["data"]] == ["hi"]
    assert '"daily";q=3;w=86400' in listed.headers["RateLimit-Policy"]
    other = client.post("/v1/notes", headers=headers, json={"topic": "home", "text": "x"})
    assert other.status_code == 403 and other.json["violated"] == ["topic:home"]
    assert other.content_type == "application/problem+json"
    over = client.get("/v1/notes", headers=headers)  # the 4th call of a 3-call day
    assert over.status_code == 429 and over.json["violated-policies"] == ["daily"]
    assert client.get("/v1/key", headers=headers).json["today"] == {
        **client.get("/v1/key", headers=headers).json["today"], "used": 3, "remaining": 0}


def test_listings_are_narrowed_to_the_keys_topics(app, client, create_key):
    writer = create_key("--name", "w", "--scopes", "write")["key"]
    for topic in ("work", "home"):
        assert client.post("/v1/notes", headers={"X-API-Key": writer},
                           json={"topic": topic, "text": topic}).status_code == 201
    reader = {"X-API-Key": create_key("--name", "r", "--topics", "work")["key"]}
    assert [n["topic"] for n in client.get("/v1/notes", headers=reader).json["data"]] \
        == ["work"]
    explicit = client.get("/v1/notes?topic=home", headers=reader)
    assert explicit.status_code == 403 and explicit.json["violated"] == ["topic:home"]
    wrong_scope = client.post("/v1/notes", headers=reader, json={"topic": "work", "text": "x"})
    assert wrong_scope.json["type"] == "/problems/insufficient-scope"


def test_keys_are_checked_and_never_more_than_their_maker(app, client, create_key):
    assert client.get("/v1/notes").json["type"] == "/problems/missing-key"
    assert client.get("/v1/notes", headers={"X-API-Key": "spk_x"}).status_code == 401
    manager = create_key("--name", "m", "--scopes", "read,keys", "--topics", "work")["key"]
    wider = client.post("/v1/keys", headers={"X-API-Key": manager},
                        json={"name": "x", "scopes": ["read"], "topics": ["work", "home"]})
    assert wider.status_code == 403 and wider.json["violated"] == ["topic:home"]
    narrower = client.post("/v1/keys", headers={"X-API-Key": manager},
                           json={"name": "x", "scopes": ["read"], "topics": ["work"]})
    assert narrower.status_code == 201


def test_the_document_knows_only_the_notes_dimension(client):
    spec = client.get("/openapi.json").json
    assert "topics" in spec["components"]["schemas"]["KeyCreate"]["properties"]
    assert "countries" not in spec["components"]["schemas"]["KeyCreate"]["properties"]
    assert not [path for path in spec["paths"] if "stores" in path or "cheapest" in path]
    assert not [name for name in sys.modules if name.startswith(("app.market", "seed"))]
