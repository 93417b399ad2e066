"""API keys besides the configured one: create, list, find by token, revoke.

A token is ``iris_<key_id>_<secret>``: `key_id` (8 random bytes, hex) is public and names the
key in `iris keys list|revoke`; the secret (32 random bytes, URL-safe) is shown once at
creation and only its SHA-256 is stored. A 256-bit random secret needs no slow hash (nobody
can guess one to test against the hash), and the comparison is constant-time all the same.
Plain functions with keyword-only arguments over a `Session` (no Ray, no FastAPI).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from iris.db.tables import ApiKey
from iris.settings import Role

TOKEN_PREFIX = "iris_"
TOKEN = re.compile(r"^iris_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
"""The shape of a token: anything else is not one of ours and costs no database look-up."""


class KeyNameTaken(ValueError):
    """Another key already has this name."""


@dataclass(frozen=True)
class NewKey:
    """A key just created: its row and the token, which exists nowhere else."""

    key: ApiKey
    token: str


def hash_secret(secret: str) -> str:
    """The stored form of a token's secret (hex SHA-256)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def camera_list(key: ApiKey) -> list[int] | None:
    """The cameras a key may see, or None for every camera."""
    if key.cameras is None:
        return None
    return [int(part) for part in key.cameras.split(",") if part]


def create_key(session: Session, *, name: str, role: Role,
               cameras: Iterable[int] | None = None) -> NewKey:
    """Store a new key and commit; `KeyNameTaken` when the name is in use."""
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    listed = ",".join(str(camera) for camera in sorted(set(cameras))) if cameras else None
    row = ApiKey(key_id=key_id, name=name, role=role, cameras=listed,
                 secret_sha256=hash_secret(secret))
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise KeyNameTaken(name) from None
    session.refresh(row)
    return NewKey(row, f"{TOKEN_PREFIX}{key_id}_{secret}")


def list_keys(session: Session) -> list[ApiKey]:
    """Every key, oldest first."""
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.id))).all())


def find_key(session: Session, *, ref: str) -> ApiKey | None:
    """The key whose key_id or name is `ref`."""
    return session.exec(
        select(ApiKey).where((col(ApiKey.key_id) == ref) | (col(ApiKey.name) == ref))
    ).first()


def key_for_token(session: Session, *, token: str) -> ApiKey | None:
    """The key this bearer token belongs to, or None (not our shape, unknown, or wrong)."""
    match = TOKEN.fullmatch(token)
    if match is None:
        return None
    key_id, secret = match.groups()
    row = session.exec(select(ApiKey).where(col(ApiKey.key_id) == key_id)).first()
    if row is None:
        return None
    if not hmac.compare_digest(row.secret_sha256.encode(), hash_secret(secret).encode()):
        return None
    return row


def revoke_key(session: Session, *, key: ApiKey) -> None:
    """Delete the key and commit: its token stops working with the next request."""
    session.delete(key)
    session.commit()
