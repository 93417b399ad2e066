"""Bodies of /api/system/keys: a key to create, a key as listed, a key just created (its token)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, model_validator

from iris.db.keys import camera_list
from iris.db.tables import ApiKey
from iris.serve.schemas.common import Strict
from iris.serve.schemas.ids import DbId
from iris.settings import ADMIN_SEES_ALL, Role

KEY_NAME = r"^[A-Za-z0-9][A-Za-z0-9 ._@-]*$"


class KeyCreate(Strict):
    """POST /api/system/keys: a name people recognise, the role, and optionally the cameras."""

    name: str = Field(min_length=1, max_length=100, pattern=KEY_NAME,
                      description="How `iris keys list` shows it, e.g. kitchen-tablet.")
    role: Role = "viewer"
    cameras: list[DbId] | None = Field(
        None, min_length=1, max_length=1000,
        description="Camera ids a viewer key may see; left out: every camera.")

    @model_validator(mode="after")
    def _admin_sees_all(self) -> KeyCreate:
        if self.role == "admin" and self.cameras is not None:
            raise ValueError(ADMIN_SEES_ALL)
        return self


class KeyPublic(BaseModel):
    """A key as listed: never its secret."""

    key_id: str
    name: str
    role: Role
    cameras: list[int] | None
    created_at: datetime

    @classmethod
    def of(cls, key: ApiKey) -> KeyPublic:
        return cls(key_id=key.key_id, name=key.name, role=key.role,  # type: ignore[arg-type]
                   cameras=camera_list(key), created_at=key.created_at)


class KeyCreated(KeyPublic):
    """A key just created, with its token: shown this once, stored nowhere."""

    token: str
