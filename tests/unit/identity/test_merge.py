"""Merge (and the split that undoes it) on a real SQLite DB: rows, files and galleries agree."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import update

from iris.db.engine import session_scope
from iris.db.tables import Event, Identity, Sighting
from iris.identity import IdentityNotFound
from tests.unit.identity.support import CAM_A, T0, assert_consistent, rows, two_people


def test_merge_then_split_round_trip(core, engine, root) -> None:
    rng = np.random.default_rng(8)
    a, b, f1, f2 = two_people(core, rng)
    with session_scope(engine) as s:
        s.execute(update(Identity).where(Identity.id == b).values(name="Bob", is_named=True))
        event = Event(camera_id=CAM_A, ts=datetime.fromtimestamp(T0 + 400, UTC), identity_id=b)
        s.add(event)
    result = core.merge(a, [b, a, 12345])
    assert (result.ok, result.target_id, result.affected_ids, result.moved_sightings) == (
        True, a, [b], 2)
    assert "not found: 12345" in result.detail
    (ident,) = rows(engine, Identity)
    assert (ident.id, ident.name, ident.is_named, ident.num_sightings) == (a, "Bob", True, 4)
    assert rows(engine, Event)[0].identity_id == a
    assert not (root / "identities" / str(b)).exists()
    assert core.nearest("face", f2, 1)[0][0] == a and core.stats()["identity_faces"] == 4
    assert_consistent(core, engine, root)

    moved = [s.id for s in rows(engine, Sighting) if s.ts >= datetime.fromtimestamp(T0 + 400, UTC)]
    split = core.split(a, sighting_ids=moved, new_name="Carol")
    assert split.ok and split.moved_sightings == 2
    new = split.target_id
    assert {s.identity_id for s in rows(engine, Sighting) if s.id in moved} == {new}
    assert core.nearest("face", f2, 1)[0][0] == new and core.nearest("face", f1, 1)[0][0] == a
    assert rows(engine, Event)[0].identity_id == a, "the event has no sighting moving with it"
    carol = rows(engine, Identity, id=new)[0]
    assert (carol.name, carol.is_named, carol.num_sightings) == ("Carol", True, 2)
    assert len(core.galleries.faces) == 4
    assert_consistent(core, engine, root)


def test_merge_refuses_missing_target_and_empty_sources(core) -> None:
    with pytest.raises(IdentityNotFound):
        core.merge(777, [1])
    with pytest.raises(ValueError, match="source"):
        core.merge(1, [1])
