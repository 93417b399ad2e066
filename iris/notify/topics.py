"""MQTT topic names under the configured prefixes (no broker, no Ray).

A camera's topics are keyed by its **id** (``iris/3/person``), not its name: ids never change
and never collide, so automations and Home Assistant entities survive a rename. Labels are
slugged (``traffic light`` → ``traffic_light``) because Home Assistant object ids allow only
letters, digits, ``_`` and ``-``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NOT_SLUG = re.compile(r"[^a-z0-9_-]+")


def slug(text: str) -> str:
    """Lower-case letters, digits, ``_`` and ``-`` only (runs of anything else become ``_``)."""
    return _NOT_SLUG.sub("_", text.strip().lower()).strip("_") or "_"


@dataclass(frozen=True)
class Topics:
    """Every topic Iris publishes, from `mqtt_topic_prefix` and `mqtt_discovery_prefix`."""

    prefix: str = "iris"
    discovery_prefix: str = "homeassistant"

    @property
    def node(self) -> str:
        """This instance in Home Assistant ids: the prefix as a slug (``iris``)."""
        return slug(self.prefix.replace("/", "_"))

    @property
    def available(self) -> str:
        """``online`` / ``offline`` (retained; the connection's last will)."""
        return f"{self.prefix}/available"

    @property
    def events(self) -> str:
        """``{type, before, after}`` JSON per event change."""
        return f"{self.prefix}/events"

    def objects(self, camera_id: int, label: str) -> str:
        """Count of active objects of `label` on the camera (retained)."""
        return f"{self.prefix}/{camera_id}/{slug(label)}"

    def status(self, camera_id: int) -> str:
        """The camera's status: online, offline, error or connecting (retained)."""
        return f"{self.prefix}/{camera_id}/status"

    def object_id(self, camera_id: int, *parts: str) -> str:
        """A Home Assistant object id unique to this instance: ``iris_3_person``."""
        return "_".join((self.node, str(camera_id), *(slug(p) for p in parts)))

    def discovery(self, component: str, object_id: str) -> str:
        """Where Home Assistant reads an entity's config (retained)."""
        return f"{self.discovery_prefix}/{component}/{object_id}/config"
