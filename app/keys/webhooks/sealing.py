"""Webhook signing secrets at rest: sealed with the server's keys, WEBHOOK_SECRET_KEYS.

An API key is stored as a hash, because the server only ever compares it. A webhook's
signing secret cannot be: the server signs every event with it (HMAC), so it must get it
back. So it is encrypted: with Fernet (AES-128-CBC with HMAC-SHA256, from the
``cryptography`` package) under the first of WEBHOOK_SECRET_KEYS, and read back with any
of them (MultiFernet). A copy of the database without those keys (a backup, a replica, a
dump) then cannot sign an event that a partner's receiver would trust.

Rotating the keys: put a new key first (``Fernet.generate_key()``), run ``flask --app wsgi
webhooks seal-secrets`` to seal every secret with it, then drop the old key. Without
WEBHOOK_SECRET_KEYS (the embedded default) a secret is stored as it is, as before; once
keys are set, ``seal-secrets`` seals the secrets stored so far. A stored value says which
it is by its prefix, so both kinds can be read side by side.

Pure: no Flask, no database; callers pass the setting."""
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

SEALED = "fernet:"


class SecretUnavailable(Exception):
    """A sealed secret that none of the configured keys opens (or no key is set)."""


def fernet(keys: str) -> MultiFernet | None:
    """WEBHOOK_SECRET_KEYS ("key1,key2": the first seals, all open) as a MultiFernet, or
    None if empty. A malformed key raises ValueError: the server should not start."""
    parts = [part.strip() for part in keys.split(",") if part.strip()]
    return MultiFernet([Fernet(part) for part in parts]) if parts else None


def seal(secret: str, keys: str) -> str:
    """What to store for ``secret``: sealed with the first key, or itself without keys."""
    box = fernet(keys)
    return secret if box is None else SEALED + box.encrypt(secret.encode()).decode("ascii")


def unseal(stored: str, keys: str) -> str:
    """The secret behind a stored value (sealed or not)."""
    if not stored.startswith(SEALED):
        return stored
    box = fernet(keys)
    if box is None:
        raise SecretUnavailable("the signing secret is sealed, but WEBHOOK_SECRET_KEYS "
                                "is not set")
    try:
        return box.decrypt(stored.removeprefix(SEALED).encode("ascii")).decode()
    except InvalidToken:
        raise SecretUnavailable("none of WEBHOOK_SECRET_KEYS opens the signing secret") \
            from None


def reseal(stored: str, keys: str) -> str:
    """``stored`` sealed with the first key: a secret stored as it is gets sealed, one
    sealed under an older key is sealed again (the secret itself never changes)."""
    return seal(unseal(stored, keys), keys)
