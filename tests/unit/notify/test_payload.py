"""The wire format of an event change: the event exactly as the API returns it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from iris.db.tables import Event
from iris.notify.payload import encode, event_message, public_event
from iris.serve.schemas.events import EventPublic


def _event(**changes: object) -> Event:
    values: dict[str, object] = {
        "id": 7, "camera_id": 3, "kind": "track", "label": "person", "score": 0.91,
        "ts": datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC), "in_progress": True,
        "created_at": datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)}
    return Event(**{**values, **changes})


def test_an_event_row_becomes_its_api_view() -> None:
    row = _event(clip_path="clips/3/event-7.mp4", thumb_path=None)
    data = public_event(row)
    assert data == EventPublic.from_event(row).model_dump(mode="json")
    assert data["clip_url"] == "/api/events/7/clip" and data["thumb_url"] is None
    assert "clip_path" not in data  # stored paths never leave the server
    assert data["ts"].startswith("2030-01-02T03:04:05")


def test_the_api_view_and_its_json_pass_through_unchanged() -> None:
    view = EventPublic.from_event(_event())
    assert public_event(view) == public_event(view.model_dump(mode="json"))


def test_a_new_event_has_no_before() -> None:
    message = event_message("new", None, _event())
    assert message["type"] == "new" and message["before"] is None
    assert message["after"]["id"] == 7 and message["after"]["in_progress"] is True


def test_an_end_carries_both_sides() -> None:
    before = _event()
    after = _event(in_progress=False, duration=12.5,
                   end_ts=datetime(2030, 1, 2, 3, 4, 17, tzinfo=UTC))
    message = event_message("end", before, after)
    assert message["before"]["in_progress"] is True
    assert message["after"]["in_progress"] is False and message["after"]["duration"] == 12.5


def test_an_unknown_change_is_refused() -> None:
    with pytest.raises(ValueError, match="new, update, end"):
        event_message("opened", None, _event())  # type: ignore[arg-type]


def test_the_body_is_compact_utf8_json() -> None:
    body = encode(event_message("new", None, _event(label="café")))
    assert b" " not in body.replace("café".encode(), b"")
    assert json.loads(body)["after"]["label"] == "café"
