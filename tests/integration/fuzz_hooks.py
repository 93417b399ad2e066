"""Schemathesis hooks for the `st run` that tests/integration/test_fuzz.py starts.

Cameras are only ever created or updated disabled: no worker starts, so a generated `rtsp_url`
(any host at all) is never dialled. The test checks afterwards that no camera got enabled.
"""

from __future__ import annotations

from typing import Any

import schemathesis

CAMERA_BODIES = {("POST", "/api/cameras"), ("PUT", "/api/cameras/{camera_id}")}


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case,
                kwargs: dict[str, Any]) -> None:
    if (case.method.upper(), case.operation.path) in CAMERA_BODIES and isinstance(case.body, dict):
        case.body = {**case.body, "enabled": False}
