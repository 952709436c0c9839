"""Per-user tokens of the metadata service, kept in its PostgreSQL database as sha256 hashes.

A token is ``hw_`` and 43 URL-safe characters (32 random bytes); it is shown once, when it is
created. Each has a public id (``tok_`` and 12 hex digits) to list and revoke it by. A revoked
token stays listed, with its revocation time, and is refused from then on.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from headwater.exceptions import CommandLineError
from headwater.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from headwater.metadata_store.postgres import PostgresMetadata

PREFIX = "hw_"
ID_PREFIX = "tok_"


class TokenInfo(Record):
    token_id: str
    user: str
    created_at: float
    revoked_at: float | None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_user(user: str) -> str:
    if (
        not isinstance(user, str)
        or not user.strip()
        or len(user) > 200
        or any(c in user for c in "\0\r\n")
    ):
        raise CommandLineError(
            f"user name {user!r} is not valid: use a non-empty name of at most 200 characters, "
            "on one line"
        )
    return user


def create(store: PostgresMetadata, user: str) -> tuple[str, TokenInfo]:
    """A new token for ``user``: (the token itself, shown once; its record)."""
    check_user(user)
    token = PREFIX + secrets.token_urlsafe(32)
    info = TokenInfo(ID_PREFIX + secrets.token_hex(6), user, time.time(), None)
    store.execute(
        "INSERT INTO service_tokens (token_id, username, token_sha256, created_at)"
        " VALUES (%s, %s, %s, %s)",
        (info.token_id, user, digest(token), info.created_at),
    )
    return token, info


def user_of(store: PostgresMetadata, token: str) -> str | None:
    """The user of a valid (known, not revoked) token; None for any other."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    rows = store.query(
        "SELECT username FROM service_tokens WHERE token_sha256 = %s AND revoked_at IS NULL",
        (digest(token),),
    )
    return rows[0][0] if rows else None


def revoke(store: PostgresMetadata, who: str) -> list[TokenInfo]:
    """Revoke the token with id ``who``, else every active token of the user ``who``; returns
    the tokens revoked. Raises CommandLineError when there is nothing to revoke."""
    now = time.time()
    rows = store.execute(
        "UPDATE service_tokens SET revoked_at = %s WHERE token_id = %s AND revoked_at IS NULL"
        " RETURNING token_id, username, created_at, revoked_at",
        (now, who),
    )
    if not rows:
        rows = store.execute(
            "UPDATE service_tokens SET revoked_at = %s WHERE username = %s AND revoked_at IS NULL"
            " RETURNING token_id, username, created_at, revoked_at",
            (now, who),
        )
    if not rows:
        raise CommandLineError(
            f"no active token has the id or the user {who!r}: see `headwater service token list`"
        )
    return [TokenInfo(*row) for row in rows]


def listing(store: PostgresMetadata) -> list[TokenInfo]:
    rows = store.query(
        "SELECT token_id, username, created_at, revoked_at FROM service_tokens"
        " ORDER BY username, created_at"
    )
    return [TokenInfo(*row) for row in rows]
