"""API key format, checksum and hashing. Pure functions: no Flask, no database.

A key looks like ``spk_3fK9aQ2m_<32 base62 secret><6 base62 checksum>``:

- ``spk_`` is a fixed prefix, so people and secret scanners recognise the string (an API
  that uses this layer picks its own with ``API_KEY_PREFIX``; every function takes it);
- the key id (8 chars) is public: it appears in logs, usage reports and admin URLs;
- the secret is 32 base62 characters from ``secrets`` (about 190 bits of entropy);
- the checksum (CRC32 of everything before it) lets the server reject typos without a
  database lookup and lets scanners find leaked keys with almost no false positives.

Why a fast hash? A password is short and guessable, so it needs a deliberately slow hash
(bcrypt, argon2) to make each guess expensive. An API key secret is 190 random bits: no
dictionary helps, and brute force is hopeless however fast the hash. A slow hash would only
cost us milliseconds on *every request*. SHA-256 (or HMAC-SHA-256 with a server-side
pepper) costs about a microsecond and is the industry norm for API keys.
"""
import hashlib
import hmac
import re
import secrets
import zlib
from functools import lru_cache
from typing import NamedTuple

PREFIX = "spk"  # the default; API_KEY_PREFIX overrides it
PREFIX_PATTERN = re.compile(r"[a-z][a-z0-9]{1,15}")
ID_LENGTH = 8
SECRET_LENGTH = 32
CHECKSUM_LENGTH = 6
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"



@lru_cache(maxsize=8)
def key_pattern(prefix: str = PREFIX) -> re.Pattern:
    """A whole key with this prefix, anchored on non-word characters so scanners do not
    match inside longer tokens."""
    if not PREFIX_PATTERN.fullmatch(prefix):
        raise ValueError(f"key prefix {prefix!r}: 2-16 lower-case letters and digits")
    return re.compile(
        rf"(?<![A-Za-z0-9_]){prefix}_([0-9A-Za-z]{{{ID_LENGTH}}})_"
        rf"([0-9A-Za-z]{{{SECRET_LENGTH}}})([0-9A-Za-z]{{{CHECKSUM_LENGTH}}})(?![A-Za-z0-9_])")


KEY_PATTERN = key_pattern()


class ParsedKey(NamedTuple):
    key_id: str
    full_key: str


def random_base62(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def checksum(body: str) -> str:
    """CRC32 of the key body, as 6 base62 digits (62**6 > 2**32)."""
    value = zlib.crc32(body.encode())
    digits = []
    for _ in range(CHECKSUM_LENGTH):
        value, digit = divmod(value, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits))


def generate_key_id() -> str:
    return random_base62(ID_LENGTH)


def generate_key(key_id: str, prefix: str = PREFIX) -> str:
    """A new full key for ``key_id``. It is shown once and never stored."""
    body = f"{prefix}_{key_id}_{random_base62(SECRET_LENGTH)}"
    return body + checksum(body)


def parse_key(candidate: str, prefix: str = PREFIX) -> ParsedKey | None:
    """The key id if ``candidate`` is well formed with a valid checksum, else None."""
    match = key_pattern(prefix).fullmatch(candidate.strip())
    if not match:
        return None
    full_key = match.group(0)
    if not hmac.compare_digest(checksum(full_key[:-CHECKSUM_LENGTH]),
                               full_key[-CHECKSUM_LENGTH:]):
        return None
    return ParsedKey(match.group(1), full_key)


def find_keys(text: str, prefix: str = PREFIX) -> list[ParsedKey]:
    """Every well-formed key with a valid checksum in ``text`` (for ``keys scan``)."""
    found = []
    for match in key_pattern(prefix).finditer(text):
        parsed = parse_key(match.group(0), prefix)
        if parsed:
            found.append(parsed)
    return found


def hash_key(full_key: str, pepper: str = "") -> bytes:
    """What the database stores: SHA-256 of the key, keyed with the pepper when set."""
    if pepper:
        return hmac.new(pepper.encode(), full_key.encode(), hashlib.sha256).digest()
    return hashlib.sha256(full_key.encode()).digest()


def matches(full_key: str, stored_hash: bytes | None, pepper: str = "") -> bool:
    """Constant-time comparison, so response timing leaks nothing about the stored hash."""
    return stored_hash is not None and hmac.compare_digest(hash_key(full_key, pepper),
                                                           stored_hash)
