"""Structured logs: one JSON object per line, tagged with the camera a line is about."""

from __future__ import annotations

import json
import logging
import time
from typing import Any


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "camera_id"?, "msg", "exc"?}` per record."""

    def __init__(self, **context: Any) -> None:
        super().__init__()
        self.context = context

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            **self.context,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: int = logging.INFO, **context: Any) -> None:
    """Route the `iris` loggers of this process to stderr as JSON lines with `context`."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(**context))
    logger = logging.getLogger("iris")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
