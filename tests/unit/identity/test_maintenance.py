"""Maintenance merges converging unnamed identities and leaves named ones alone."""

from __future__ import annotations

import numpy as np
from sqlalchemy import update

from iris.db.engine import session_scope
from iris.db.tables import Identity
from iris.identity import IdentityConfig, IdentityCore
from tests.unit.identity.support import CAM_A, CAM_B, assert_consistent, jitter, rows, seen, unit


def test_maintenance_merges_converging_unnamed_identities_only(engine, root) -> None:
    strict = IdentityConfig(face_threshold=0.999)  # assignment never matches: duplicates form
    core = IdentityCore(engine, root, strict)
    rng = np.random.default_rng(12)
    f1, f2 = unit(rng), unit(rng)
    dup = [core.assign(seen(CAM_A, i, i * 100, jitter(f1, rng))).identity_id for i in range(3)]
    named = [core.assign(seen(CAM_B, 10 + i, i * 100, jitter(f2, rng))).identity_id
             for i in range(2)]
    assert len(set(dup + named)) == 5
    with session_scope(engine) as s:
        s.execute(update(Identity).where(Identity.id == named[0]).values(is_named=True,
                                                                        name="Dana"))
    results = core.maintenance()
    assert [(r.target_id, sorted(r.affected_ids)) for r in results] == [(dup[0], dup[1:])]
    assert sorted(i.id for i in rows(engine, Identity)) == sorted([dup[0], *named])
    assert core.maintenance() == []
    assert_consistent(core, engine, root)
