"""Leaked-key scanning ("best practices"): find committed keys by format and checksum, then
say whether each is still live, so a pre-commit hook or CI can fail on a real leak."""
from pathlib import Path

from flask import current_app

from ..clock import now
from ..extensions import db
from . import format as keyformat
from .lifecycle import status
from .models import ApiKey


def scan_paths(paths: list[str]) -> list[dict]:
    """Find committed keys: format + valid checksum, then whether each is still live."""
    findings = []
    for file in _files(paths):
        try:
            text = file.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binaries and unreadable files
        for number, line in enumerate(text.splitlines(), start=1):
            for parsed in keyformat.find_keys(line):
                findings.append({"file": str(file), "line": number,
                                 "key_id": parsed.key_id, "status": _leak_status(parsed)})
    return findings


def _leak_status(parsed) -> str:
    """live (works now or will), revoked, expired, rotated-out or unknown."""
    key = db.session.get(ApiKey, parsed.key_id)
    pepper = current_app.config["KEY_PEPPER"]
    if key is None:
        return "unknown"
    if keyformat.matches(parsed.full_key, key.secret_hash, pepper):
        state = status(key)
        return "live" if state in ("active", "pending") else state
    if keyformat.matches(parsed.full_key, key.previous_secret_hash, pepper):
        in_grace = key.previous_valid_until and now() < key.previous_valid_until
        return "live" if in_grace and status(key) == "active" else "rotated-out"
    return "unknown"


def _files(paths):
    for path in map(Path, paths):
        if path.is_file():
            yield path
        elif path.is_dir():
            for file in sorted(path.rglob("*")):
                if file.is_file() and ".git" not in file.parts and ".venv" not in file.parts:
                    yield file
