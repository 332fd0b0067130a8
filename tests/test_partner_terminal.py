"""Names are printed as text, never as terminal commands (client/terminal.py and the admin
CLI's app/keys/cli/terminal.py); and ``deals --country`` covers the whole country."""
import pytest
from test_client import api_server  # noqa: F401 (fixture)
from test_client_cli import cli  # noqa: F401 (fixture)

from app.extensions import db
from app.keys.cli.terminal import printable as admin_printable
from app.market.models import Item
from client.terminal import printable

HOSTILE = ("Milk\x1b[2J\x1b[1;1H\x1b]0;pwned\x07 \x1b[31mred\x1b[0m\u202eevil\x00\x9b1m"
           "\x7f done")


@pytest.mark.parametrize("clean", [printable, admin_printable])
def test_escape_sequences_and_controls_are_removed(clean):
    assert clean(HOSTILE) == "Milk redevil done"
    assert clean("two\nlines\tand a tab, Épicerie Fine ¥198") == \
        "two\nlines\tand a tab, Épicerie Fine ¥198"


def test_deals_for_the_whole_country(api_server, cli):  # noqa: F811
    code, out, _ = cli(api_server.key(), "deals", "--url", api_server.url, "--country", "US")
    assert code == 0
    assert out.startswith("Today's deals in US, biggest saving first:")
    assert "Milk, 1 l  2.49 USD (regular 2.99, -17%)" in out and "at Us Posh 1" in out


def test_names_from_the_api_reach_the_terminal_clean(api_server, cli):  # noqa: F811
    with api_server.app.app_context():
        milk = db.session.scalar(db.select(Item).where(Item.slug == "milk"))
        name, milk.name = milk.name, "Milk\x1b]0;pwned\x07\x1b[2J"
        db.session.commit()
    try:
        code, out, err = cli(api_server.key(), "deals", "--url", api_server.url,
                             "--city", "Boston", "milk")
    finally:
        with api_server.app.app_context():
            db.session.scalar(db.select(Item).where(Item.slug == "milk")).name = name
            db.session.commit()
    assert code == 0 and "\x1b" not in out + err and "\x07" not in out
    assert "1 x Milk, 1 l" in out
