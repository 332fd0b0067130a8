"""SQLite writers take turns through a file lock (app/database.py): the next writer gets in
as soon as the last one is done, a turn never waits longer than DATABASE_TIMEOUT, and a
killed worker's turn is given up by the kernel. The books' exactness with several workers
writing at once is tests/test_concurrency.py's."""
import logging
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest
from conftest import key_id, make_app, quota_used
from sqlalchemy import text

from app.database import writers_take_turns
from app.extensions import db


@pytest.fixture
def app(tmp_path):
    """SQLite only: PostgreSQL queues its writers itself (writers_take_turns is a no-op)."""
    app = make_app(f"sqlite:///{tmp_path / 'test.db'}")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_the_next_writer_gets_in_when_the_last_one_is_done(app):
    events = []
    with app.app_context():
        with db.engine.begin() as setup:
            setup.execute(text("CREATE TABLE turn_log (writer TEXT)"))
        first, second = db.engine.connect(), db.engine.connect()
        entered = threading.Event()

        def later_writer():
            entered.wait()
            started = time.monotonic()
            with writers_take_turns(second, timeout=5):
                events.append(("second in", time.monotonic() - started))
                second.execute(text("INSERT INTO turn_log VALUES ('second')"))
                second.commit()

        writer = threading.Thread(target=later_writer)
        writer.start()
        with writers_take_turns(first, timeout=5):
            entered.set()
            first.execute(text("INSERT INTO turn_log VALUES ('first')"))
            time.sleep(0.3)  # the other writer must wait for this turn to end
            events.append(("first out", None))
            first.commit()
        writer.join(timeout=10)
        first.close(), second.close()
        assert [name for name, _ in events] == ["first out", "second in"]
        waited = events[1][1]
        assert 0.2 < waited < 1.0  # woken within milliseconds, not after a long sleep
        rows = db.session.execute(text("SELECT writer FROM turn_log ORDER BY rowid"))
        assert rows.scalars().all() == ["first", "second"]


def test_a_turn_not_had_within_the_timeout_writes_anyway(app, client, make_key, caplog):
    """Taking turns only orders writers: past DATABASE_TIMEOUT the call writes without
    its turn (SQLite's own lock still guards the data), so it is served and counted."""
    key = make_key()
    with app.app_context():
        app.config["DATABASE_TIMEOUT"] = 0.3
        holder = db.engine.connect()
        with writers_take_turns(holder, timeout=5), caplog.at_level(logging.WARNING):
            started = time.monotonic()
            answer = client.get("/v1/items", headers={"X-API-Key": key})
            took = time.monotonic() - started
        holder.close()
    assert answer.status_code == 200, answer.json
    assert 0.6 <= took < 2  # two writes (admission, completion), each waited 0.3 s
    assert caplog.text.count("no write turn within 0.3 s; writing anyway") == 2
    assert quota_used(app, key) == 1
    with app.app_context():
        books = db.session.execute(text(
            "SELECT admitted, incomplete, units, status_2xx FROM usage WHERE key_id = :id"),
            {"id": key_id(key)}).one()
    assert tuple(books) == (1, 0, 1, 1)


@contextmanager
def turn_held_by_another_process(app):
    """A separate process takes the turn and keeps it until it reads a line (or dies)."""
    with app.app_context():
        lock_file = db.engine.url.database + "-writers"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys\n"
        f"fd = os.open({lock_file!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('holding', flush=True)\n"
        "sys.stdin.readline()\n")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        yield holder
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_a_killed_writers_turn_is_given_up(app, client, make_key):
    """A process that dies holding the turn (SIGKILL: no cleanup of its own) does not
    hold up the next call: the kernel releases its lock."""
    key = make_key()
    app.config["DATABASE_TIMEOUT"] = 30
    with turn_held_by_another_process(app) as holder:
        holder.kill()
        holder.wait(timeout=10)
        started = time.monotonic()
        answer = client.get("/v1/items", headers={"X-API-Key": key})
        assert answer.status_code == 200
        assert time.monotonic() - started < 2  # not the 30 s a held turn would cost
    assert quota_used(app, key) == 1


def test_a_held_turn_is_waited_for_by_the_served_configuration(app, client, make_key):
    """The pipeline's writes do take the turn: while another process holds it, a call
    waits (and is not yet counted); once it lets go, the call is served at once."""
    key = make_key()
    answers = []
    with turn_held_by_another_process(app) as holder:
        caller = threading.Thread(target=lambda: answers.append(
            client.get("/v1/items", headers={"X-API-Key": key})))
        caller.start()
        time.sleep(0.5)
        assert answers == [] and quota_used(app, key) == 0  # waiting for its turn
        holder.stdin.write("go\n")
        holder.stdin.flush()
        caller.join(timeout=5)
    assert [answer.status_code for answer in answers] == [200]
    assert quota_used(app, key) == 1
