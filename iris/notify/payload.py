"""What an event change looks like on the wire: the event as the API returns it, as JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from iris.db.tables import Event
from iris.serve.schemas.events import EventPublic
from iris.settings import EVENT_CHANGES, EventChange

#: An event as it travels to the notifier: a row, its public view, or that view as JSON data.
EventLike = Event | EventPublic | Mapping[str, Any]


def public_event(event: EventLike) -> dict[str, Any]:
    """The event exactly as ``GET /api/events/{id}`` returns it, as JSON-ready data.

    Built from `EventPublic`, so fields the API gains (zones, severity …) appear here too.
    """
    if isinstance(event, Event):
        event = EventPublic.from_event(event)
    if isinstance(event, EventPublic):
        return event.model_dump(mode="json")
    return dict(event)


def event_message(change: EventChange, before: EventLike | None,
                  after: EventLike) -> dict[str, Any]:
    """``{type, before, after}``: what `iris/events` and every webhook receive.

    Raises:
        ValueError: `change` is not one of ``new``, ``update``, ``end``.
    """
    if change not in EVENT_CHANGES:
        raise ValueError(f"event change must be one of {', '.join(EVENT_CHANGES)}, "
                         f"not {change!r}")
    return {"type": change,
            "before": None if before is None else public_event(before),
            "after": public_event(after)}


def encode(message: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON: the exact bytes that are published, POSTed and signed."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
