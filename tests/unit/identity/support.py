"""Helpers of the identity tests: vectors, observations, row reads, a consistency audit."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from iris.db.tables import (
    AppearanceExemplar,
    FaceExemplar,
    FaceSample,
    Identity,
    PresenceSegment,
    Sighting,
)
from iris.identity import IdentityCore
from iris.types import Observation

CAM_A, CAM_B = 1, 2
T0 = 1_700_000_000.0


def unit(rng: np.random.Generator, dim: int = 512) -> np.ndarray:
    v = rng.standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


def jitter(v: np.ndarray, rng: np.random.Generator, amount: float = 0.02) -> np.ndarray:
    """Another view of the same face/clothes: cosine ~0.9 with ``v`` at 512-d."""
    return (v + amount * rng.standard_normal(v.shape)).astype(np.float32)


def seen(camera: int, track: int, t: float, face: np.ndarray | None = None, **kw: object
         ) -> Observation:
    """A 10 s observation at ``T0 + t`` with a body crop (and a face crop when there is a face)."""
    fields: dict[str, object] = {
        "crop_jpeg": b"body", "face_jpeg": b"face" if face is not None else None, "quality": 0.5
    }
    fields.update(kw)
    return Observation(camera_id=camera, track_id=track, ts=T0 + t, end_ts=T0 + t + 10,
                         face_embedding=face, **fields)  # type: ignore[arg-type]


def rows(engine: Engine, table: type, **where: object) -> list:
    with Session(engine) as s:
        q = select(table)
        for col, value in where.items():
            q = q.where(getattr(table, col) == value)
        return list(s.execute(q).scalars())


def assert_consistent(core: IdentityCore, engine: Engine, root: Path) -> None:
    """Galleries hold exactly the exemplar rows; files and rows match; counters add up."""
    with Session(engine) as s:
        for table, gallery in (
            (FaceExemplar, core.galleries.faces),
            (AppearanceExemplar, core.galleries.looks),
        ):
            db = dict(s.execute(select(table.id, table.identity_id)).all())
            assert set(gallery.index.ids().tolist()) == set(db) and gallery.owner == db
        referenced = {p for (p,) in s.execute(select(Sighting.thumb_path)) if p} | {
            p for (p,) in s.execute(select(FaceSample.crop_path)) if p}
        ids = set(s.execute(select(Identity.id)).scalars())
        for ident in s.execute(select(Identity)).scalars():
            n, first = s.execute(select(func.count(), func.min(Sighting.ts)).where(
                Sighting.identity_id == ident.id)).one()
            dwell = s.execute(select(func.coalesce(func.sum(PresenceSegment.seconds), 0.0))
                              .where(PresenceSegment.identity_id == ident.id)).scalar()
            assert ident.num_sightings == n > 0
            assert ident.total_seconds == pytest.approx(dwell)
            assert ident.first_seen == first.replace(tzinfo=UTC)
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    assert on_disk == referenced
    for path in referenced:
        assert int(path.split("/")[1]) in ids, f"{path} lies outside its identity's folder"
    dirs = {int(p.name) for p in (root / "identities").iterdir()} if (
        root / "identities").exists() else set()
    assert dirs <= ids


def two_people(core: IdentityCore, rng: np.random.Generator) -> tuple[int, int, np.ndarray,
                                                                         np.ndarray]:
    f1, f2 = unit(rng), unit(rng)
    a = core.assign(seen(CAM_A, 1, 0, f1)).identity_id
    core.assign(seen(CAM_B, 2, 50, jitter(f1, rng)))
    b = core.assign(seen(CAM_A, 3, 400, f2)).identity_id
    core.assign(seen(CAM_B, 4, 500, jitter(f2, rng)))
    return a, b, f1, f2
