"""Structured logs carry the camera and survive odd messages."""

from __future__ import annotations

import json
import logging

from iris.logs import JsonFormatter


def test_json_line_with_camera_context() -> None:
    record = logging.LogRecord("iris.camera", logging.WARNING, __file__, 1,
                               'reconnect: %s "quoted"', ("stream ended",), None)
    line = JsonFormatter(camera_id=7, camera="Door").format(record)
    entry = json.loads(line)
    assert entry["camera_id"] == 7 and entry["camera"] == "Door"
    assert entry["level"] == "warning" and entry["logger"] == "iris.camera"
    assert entry["msg"] == 'reconnect: stream ended "quoted"'
    assert entry["ts"].endswith("Z")
