"""Leaked-key scanning ("best practices"): find committed keys by format and checksum, then
say whether each is still live, so a pre-commit hook or CI can fail on a real leak.

Files are read whatever their encoding (``decoded``): a .env that PowerShell saved is
UTF-16 with a byte-order mark, an old config is latin-1 with one accented comment, and a
key is leaked in those just as much. Keys are ASCII, so a file that is none of the
recognised encodings is read as latin-1, which maps every byte and keeps ASCII intact."""
import codecs
from pathlib import Path

from flask import current_app

from ..clock import now
from ..extensions import db
from . import format as keyformat
from .lifecycle import status
from .models import ApiKey


def scan_paths(paths: list[str]) -> list[dict]:
    """Find committed keys: format + valid checksum, then whether each is still live."""
    findings, prefix = [], current_app.config["API_KEY_PREFIX"]
    for file in _files(paths):
        try:
            text = decoded(file.read_bytes())
        except OSError:
            continue  # unreadable files
        for number, line in enumerate(text.splitlines(), start=1):
            for parsed in keyformat.find_keys(line, prefix):
                findings.append({"file": str(file), "line": number,
                                 "key_id": parsed.key_id, "status": _leak_status(parsed)})
    return findings


# Byte-order marks, longest first (UTF-32 LE starts with UTF-16 LE's mark).
BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"))


def decoded(data: bytes) -> str:
    """The text of a file: by its byte-order mark; else UTF-16 without a mark (every other
    byte NUL: ASCII text saved as UTF-16); else UTF-8; else latin-1."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="replace")
    # Checked before UTF-8, which ASCII saved as UTF-16 also is (NUL is valid UTF-8).
    if len(data) >= 2 and data[1::2].count(0) > len(data) // 4:
        return data.decode("utf-16-le", errors="replace")
    if len(data) >= 2 and data[0::2].count(0) > len(data) // 4:
        return data.decode("utf-16-be", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


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
