"""The typed messages that cross Ray hops: strict in, the API's JSON out."""

from __future__ import annotations

import pickle

import pytest

from iris.messages import CameraState, RecordResult

REPORT = {"status": "online", "last_seen": 5.0, "fps": 25.0, "detector": "ok", "reason": None,
          "frames_decoded": 10, "frames_dropped": 0, "detections": 3, "skipped_static": 1,
          "detect_latency_ms": 12.5, "jpeg_encodes": 2, "events": 1, "reid_sent": 0}


def test_a_worker_report_becomes_a_state_and_back_with_placement_and_name() -> None:
    state = CameraState.from_report(REPORT, pid=42, node="n1").named("Door")
    assert state.as_dict() == {**REPORT, "pid": 42, "node": "n1", "name": "Door"}
    assert pickle.loads(pickle.dumps(state)) == state  # crosses the object store


def test_a_report_with_a_key_the_type_does_not_know_is_refused() -> None:
    with pytest.raises(TypeError, match="unknown camera state keys: queue_depth"):
        CameraState.from_report({**REPORT, "queue_depth": 3})


def test_record_results() -> None:
    saved = RecordResult.from_report({"event_id": 4, "clip": "/api/events/4/clip",
                                      "duration": 2.5})
    assert saved.saved and saved.error is None
    refused = RecordResult.from_report({"error": "Nothing recorded in that window."})
    assert not refused.saved and refused.event_id is None
