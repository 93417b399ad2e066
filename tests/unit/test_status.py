"""Status derivation: disabled, error, stale heartbeat and the persisted-row fallback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from iris.messages import CameraState
from iris.status import derive_status

NOW = 1_800_000_000.0


def beat(status: str, age: float) -> CameraState:
    return CameraState(status=status, last_seen=NOW - age, fps=25.0, detector="ok")


@pytest.mark.parametrize(
    ("enabled", "heartbeat", "persisted", "persisted_age", "expected"),
    [
        (False, beat("online", 0), "online", 0, "offline"),
        (True, beat("online", 1), "offline", None, "online"),
        (True, beat("error", 100), "online", None, "error"),
        (True, beat("online", 31), "online", None, "offline"),
        (True, None, "online", 10, "online"),
        (True, None, "online", 31, "offline"),
        (True, None, "online", None, "offline"),
    ],
)
def test_derive_status(enabled, heartbeat, persisted, persisted_age, expected) -> None:
    last_seen = (None if persisted_age is None
                 else datetime.fromtimestamp(NOW - persisted_age, UTC))
    derived = derive_status(enabled=enabled, heartbeat=heartbeat, persisted_status=persisted,
                            persisted_last_seen=last_seen, stale_seconds=30, now=NOW)
    assert derived.status == expected
