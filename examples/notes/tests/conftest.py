"""The notes API on a temporary SQLite file, its schema made by its own command."""
import json

import pytest

from examples.notes import create_app


@pytest.fixture
def app(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI":
                      f"sqlite:///{tmp_path / 'notes.db'}", "DEFAULT_KEY_TTL": ""})
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def create_key(app):
    """The README's command: flask --app examples.notes keys create ... --json."""
    def create(*options):
        result = app.test_cli_runner().invoke(args=["keys", "create", "--json", *options])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)
    return create
