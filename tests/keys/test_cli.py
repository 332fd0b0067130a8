"""The admin CLI fails in one line, with a non-zero exit code, never a traceback: bad
options are refused with the API's own bounds and rules (exit 2), and a database that is
unreachable or was never set up is said so (exit 1)."""
import pytest
from conftest import row_count

from app import create_app
from app.clock import utcnow
from app.extensions import db


def cli(app, *args):
    # catch_exceptions=False: an exception the CLI lets through fails the test itself.
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def assert_one_line_error(result, code, *parts):
    assert result.exit_code == code, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    for part in parts:
        assert part in lines[0], result.output


@pytest.mark.parametrize("args, field", [
    (["--to", "9999-12-31"], "to"),                          # past the last report day
    (["--to", "0001-01-01"], "to"),                          # before the first
    (["--from", "1969-12-31"], "from"),
    (["--from", "2026-12-05", "--to", "2026-12-01"], "from"),  # from after to
    (["--from", "9998-12-31"], "from"),                      # after the default to (today)
    (["--from", "20261201"], "from"),                        # not YYYY-MM-DD
    (["--to", "2026-12-1"], "to"),
])
def test_usage_report_takes_the_api_s_report_days(app, args, field):
    for extra in ([], ["--csv"]):
        assert_one_line_error(cli(app, "usage", "report", *args, *extra), 2,
                              "invalid options", f'"{field}"')


def test_usage_report_within_the_bounds(app):
    today = utcnow().date()
    for args in (["--from", "1970-01-01", "--to", "9998-12-31"], ["--from", str(today)], []):
        result = cli(app, "usage", "report", *args)
        assert result.exit_code == 0 and result.output.startswith("Billing summary"), args


@pytest.fixture
def never_set_up(tmp_path):
    """An app whose database exists but has no tables (no `db upgrade`, no `seed`)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.db'}",
                      "LOG_LEVEL": "WARNING"})
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("args", [
    ["keys", "list"], ["keys", "show", "abcd1234"], ["keys", "create", "--name", "x"],
    ["keys", "prune", "--unused-days", "7"], ["usage", "report"], ["usage", "anomalies"],
    ["usage", "plans"], ["plans", "list"], ["audit"],
])
def test_a_database_never_set_up_is_one_line(never_set_up, args):
    assert_one_line_error(cli(never_set_up, *args), 1, "the database cannot be used",
                          "no such table", "db upgrade")


def test_an_unreachable_database_is_one_line(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'no-dir' / 'x.db'}",
                      "LOG_LEVEL": "WARNING"})
    assert_one_line_error(cli(app, "keys", "list"), 1, "the database cannot be used",
                          "DATABASE_URL")


def test_a_service_error_is_still_its_own_line(app):
    assert_one_line_error(cli(app, "keys", "show", "abcd1234"), 1, "No key with id")
    assert row_count(app, "api_keys") == 0
