"""Split: explicit and auto (re-clustering), and the requests it refuses."""

from __future__ import annotations

import numpy as np
import pytest

from iris.db.tables import Sighting
from iris.identity import IdentityNotFound
from tests.unit.identity.support import assert_consistent, rows, two_people


def test_auto_split_separates_two_faces(core, engine, root) -> None:
    rng = np.random.default_rng(9)
    a, b, f1, f2 = two_people(core, rng)
    core.merge(a, [b])
    result = core.split(a, auto=True)
    assert result.ok and result.moved_sightings == 2
    assert {core.nearest("face", f, 1)[0][0] for f in (f1, f2)} == {a, result.target_id}
    assert_consistent(core, engine, root)
    again = core.split(a, auto=True)  # one subject left: nothing to do
    assert not again.ok and "one subject" in again.detail


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({}, ValueError),
        ({"sighting_ids": [999]}, ValueError),
        ({"sighting_ids": "all"}, ValueError),
        ({"identity_id": 4242, "sighting_ids": [1]}, IdentityNotFound),
    ],
)
def test_split_refuses_bad_requests(core, engine, kwargs, error) -> None:
    rng = np.random.default_rng(10)
    a, *_ = two_people(core, rng)
    if kwargs.get("sighting_ids") == "all":
        kwargs["sighting_ids"] = [s.id for s in rows(engine, Sighting, identity_id=a)]
    with pytest.raises(error):
        core.split(kwargs.pop("identity_id", a), **kwargs)
