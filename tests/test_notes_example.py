"""examples/notes uses the key layer unchanged, in a copy of the repository without the
marketplace, the seed and the client: its own tests pass there, and the README's
commands (schema, a key from the CLI, the server) work as printed. It runs in processes
of its own: a process holds one API's restriction dimensions."""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from servers import free_port

ROOT = Path(__file__).resolve().parent.parent
LEFT_OUT = ("app/market/", "seed/", "client/")


@pytest.fixture(scope="module")
def copy_without_marketplace(tmp_path_factory):
    target = tmp_path_factory.mktemp("notes-only")
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in files.splitlines():
        if name.startswith(LEFT_OUT) or not (ROOT / name).is_file():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    assert not (target / "app" / "market").exists() and not (target / "seed").exists()
    return target


def run(copy, *args, env=None):
    return subprocess.run([sys.executable, *args], cwd=copy, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def test_its_own_tests_pass_without_the_marketplace(copy_without_marketplace):
    result = run(copy_without_marketplace, "-m", "pytest", "-p", "no:cacheprovider",
                 "examples/notes/tests")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout and "failed" not in result.stdout


def test_the_readme_commands_work_as_printed(copy_without_marketplace, tmp_path):
    copy = copy_without_marketplace
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'notes.db'}", "FLASK_APP": "examples.notes"}
    flask = ["-m", "flask", "--app", "examples.notes"]
    assert run(copy, *flask, "init-db", env=env).returncode == 0
    created = run(copy, *flask, "keys", "create", "--name", "N", "--scopes", "read,write",
                  "--topics", "work", "--daily-limit", "3", "--json", env=env)
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["key"]
    port = free_port()
    server = subprocess.Popen([sys.executable, *flask, "run", "--port", str(port)], cwd=copy,
                              env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/v1/notes"
        for _ in range(100):
            try:
                requests.get(url, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        headers = {"X-API-Key": key}
        answers = [requests.post(url, headers=headers, json={"topic": "work", "text": "hi"},
                                 timeout=10) for _ in range(2)]
        answers.append(requests.post(url, headers=headers, json={"topic": "home", "text": "x"},
                                     timeout=10))
        answers.append(requests.get(url, headers=headers, timeout=10))
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert [a.status_code for a in answers] == [201, 201, 403, 429]
    assert answers[2].json()["violated"] == ["topic:home"]
    assert answers[3].json()["violated-policies"] == ["daily"]
