"""/api/system/keys: API keys besides the configured one (admin only, see `iris.serve.access`).

A key's token is answered once, by the POST that creates it; the database keeps its hash
(`iris.db.keys`). Revoking deletes the key: its next request is a 401.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Response, status
from fastapi.exceptions import RequestValidationError
from sqlmodel import col, select

from iris.db import keys as db
from iris.db.tables import Camera
from iris.serve.deps import SessionDep
from iris.serve.schemas.keys import KeyCreate, KeyCreated, KeyPublic

router = APIRouter()

KeyRef = Annotated[str, Path(min_length=1, max_length=100, description="The key's id or name")]


@router.get("", response_model=list[KeyPublic])
def list_keys(session: SessionDep) -> Any:
    """Every API key (without secrets), oldest first."""
    return [KeyPublic.of(key) for key in db.list_keys(session)]


@router.post("", response_model=KeyCreated, status_code=status.HTTP_201_CREATED)
def create_key(body: KeyCreate, session: SessionDep) -> Any:
    """Create a key; its token is in this answer only."""
    if body.cameras:
        known = set(session.exec(select(col(Camera.id)).where(
            col(Camera.id).in_(body.cameras))).all())
        missing = [camera for camera in body.cameras if camera not in known]
        if missing:
            raise RequestValidationError([{
                "type": "value_error", "loc": ("body", "cameras"), "input": body.cameras,
                "msg": "Value error, no camera " + ", ".join(f"#{c}" for c in missing)}])
    try:
        created = db.create_key(session, name=body.name, role=body.role, cameras=body.cameras)
    except db.KeyNameTaken:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"An API key named {body.name!r} exists already.") from None
    return KeyCreated(**KeyPublic.of(created.key).model_dump(), token=created.token)


@router.delete("/{key_ref}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_key(key_ref: KeyRef, session: SessionDep) -> Response:
    """Revoke a key (by id or name): it stops working at once."""
    key = db.find_key(session, ref=key_ref)
    if key is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "API key not found.")
    db.revoke_key(session, key=key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
