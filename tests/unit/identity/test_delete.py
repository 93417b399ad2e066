"""Recursive delete of identities: solo events go, shared events are unlinked."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from sqlalchemy import update

from iris.db.engine import session_scope
from iris.db.tables import Event, Identity, Sighting
from tests.unit.identity.support import CAM_A, T0, assert_consistent, rows, two_people


def test_delete_removes_solo_events_and_unlinks_shared_ones(core, engine, root) -> None:
    rng = np.random.default_rng(11)
    a, b, f1, _ = two_people(core, rng)
    clips = root / "clips" / "1"
    clips.mkdir(parents=True)
    with session_scope(engine) as s:
        solo = Event(camera_id=CAM_A, ts=datetime.fromtimestamp(T0, UTC), identity_id=a,
                     clip_path="clips/1/solo.mp4")
        shared = Event(camera_id=CAM_A, ts=datetime.fromtimestamp(T0, UTC), identity_id=a,
                       clip_path="clips/1/shared.mp4")
        s.add_all([solo, shared])
        s.flush()
        s.execute(update(Sighting).where(Sighting.identity_id == b).values(event_id=shared.id))
    for name in ("solo", "shared"):
        (clips / f"{name}.mp4").write_bytes(b"mp4")
    result = core.delete([a, 4242])
    assert result.ok and result.affected_ids == [a] and "not found: 4242" in result.detail
    (kept,) = rows(engine, Event)
    assert kept.id == shared.id and kept.identity_id is None
    assert not (clips / "solo.mp4").exists() and (clips / "shared.mp4").exists()
    assert [i.id for i in rows(engine, Identity)] == [b]
    assert core.nearest("face", f1, 1)[0][0] == b and core.stats()["identity_faces"] == 2
    (clips / "shared.mp4").unlink()  # not a crop: keep the file audit about identities
    assert_consistent(core, engine, root)
