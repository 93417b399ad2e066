"""Serving clips cut from the recording store: cut on the first request, then Range from the
cache (events' clips and exports alike)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from fastapi import HTTPException, status
from sqlalchemy.engine import Engine
from starlette.responses import Response

from iris.layout import Layout
from iris.recording.cache import cut_clip
from iris.recording.clip import ClipUnavailable
from iris.serve.files import RangeNotSatisfiable, parse_range, serve_stored

MP4 = "video/mp4"


def continues_reading(request_headers: Mapping[str, str]) -> bool:
    """True for a Range request past the first byte: a player reading on in a clip it has."""
    try:
        wanted = parse_range(request_headers.get("range"), 1 << 62)
    except RangeNotSatisfiable:
        return False
    return wanted is not None and wanted.start > 0


def serve_cut_clip(request_headers: Mapping[str, str], engine: Engine, root: Path, *,
                   camera_id: int, start: float, end: float, name: str, subject: str,
                   nothing: str, download: str | None = None) -> Response:
    """The clip of [start, end] of a camera's footage (Range, 206/416 as for any file).

    Args:
        subject: names the clip in errors ("The event's clip").
        nothing: the 404 text when nothing was recorded in the range.
        download: a file name to offer the download under (Content-Disposition).
    """
    try:
        cut = cut_clip(engine, Layout(root), camera_id=camera_id, start=start, end=end,
                       name=name, continuation=continues_reading(request_headers))
    except ClipUnavailable:
        raise HTTPException(status.HTTP_404_NOT_FOUND, nothing) from None
    response = serve_stored(request_headers, root, Layout(root).relative(cut.path), subject,
                            MP4, accel=True)
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{download}"'
    if not cut.final:
        response.headers["Cache-Control"] = "no-store"  # the footage is still growing
    return response
