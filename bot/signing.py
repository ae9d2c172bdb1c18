"""Signed custom ids: a button or form whose id names a subject (whose takes, which server, which
take) carries a tag only this bot can make, so an id a client made up is refused before any
field of it is read.

A custom id is whatever the client sends back: Discord checks that a pressed button is on its
message, but a form submission arrives with any id the client chooses. The tag is an HMAC-SHA256
of the id's text under a key kept in the database (``bot_meta``), truncated to 96 bits and written
in base64url: 16 characters, which keeps the longest id under Discord's 100-character limit.

The key is made with :mod:`secrets` on first start and shared by every process on the database.
``python -m bot rotate-signing-key`` replaces it; there is no grace period: every signed id made
before (pager buttons on old messages, forms open at the time) is refused from the next start,
with one line asking to run the command again. A rotation is for a key that may have leaked, and
a key that may have leaked should stop working at once; a list is one command away.

Signing says the bot made an id; it does not say who may use it. Buttons and forms still decide
that from the interaction (who pressed, where, with which permissions now).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets

from bot.storage import Store

log = logging.getLogger("bot.signing")

#: Where the key is kept (``bot_meta``), as base64url.
SIGNING_KEY = "custom_id_signing_key"
KEY_BYTES = 32
TAG_BYTES = 12
#: The tag's length in the id: base64url of :data:`TAG_BYTES`, without padding.
TAG_LENGTH = 16
SEPARATOR = ":"
#: Discord's limit on a custom id.
CUSTOM_ID_LIMIT = 100


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


class IdSigner:
    """Signs and checks custom ids with one key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a signing key needs at least 16 bytes")
        self._key = key

    def _tag(self, body: str) -> str:
        return _encode(hmac.new(self._key, body.encode("utf-8"), hashlib.sha256).digest()[:TAG_BYTES])

    def sign(self, body: str) -> str:
        """``body`` with its tag appended; never longer than Discord allows."""
        signed = f"{body}{SEPARATOR}{self._tag(body)}"
        if len(signed) > CUSTOM_ID_LIMIT:
            raise ValueError(f"a signed custom id must fit {CUSTOM_ID_LIMIT} characters: {signed!r}")
        return signed

    def verify(self, custom_id: str) -> str | None:
        """The id's body if its tag is this bot's, else ``None`` (forged, tampered, or from a
        rotated key). Compared in constant time; nothing of the body is read before."""
        body, separator, tag = custom_id.rpartition(SEPARATOR)
        if not separator or len(tag) != TAG_LENGTH or len(custom_id) > CUSTOM_ID_LIMIT:
            return None
        return body if hmac.compare_digest(tag, self._tag(body)) else None


def new_key() -> str:
    return _encode(secrets.token_bytes(KEY_BYTES))


def _decode(stored: str) -> bytes | None:
    try:
        raw = base64.urlsafe_b64decode(stored + "=" * (-len(stored) % 4))
    except ValueError:
        return None
    return raw if len(raw) >= 16 else None


async def load_signer(store: Store) -> IdSigner:
    """The database's key, made on first start. Two processes starting at once on a new
    database may both make one: each reads back what was stored last, and a process that
    lost the race signs with a key no one checks only until its next start."""
    stored = await store.get_meta(SIGNING_KEY)
    key = _decode(stored) if stored is not None else None
    if key is None:
        if stored is not None:
            log.warning("the stored custom-id signing key is unreadable; making a new one "
                        "(buttons on older messages will ask to run the command again)")
        await store.set_meta(SIGNING_KEY, new_key())
        key = _decode(await store.get_meta(SIGNING_KEY) or "")
        assert key is not None
    return IdSigner(key)


async def rotate_signing_key(store: Store) -> None:
    """Replace the key: every signed id made with the old one is refused from the next start."""
    await store.set_meta(SIGNING_KEY, new_key())
