"""Home Assistant MQTT discovery: the retained configs that make Iris appear with no YAML.

Per camera, one device with an occupancy binary sensor and an object-count sensor per label
it triggers on (and `motion`), and a status sensor; every entity is available only while
``<prefix>/available`` reads ``online``. See
https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery for the format.
"""

from __future__ import annotations

from typing import Any

from iris import __version__
from iris.notify.cameras import CameraInfo
from iris.notify.payload import encode
from iris.notify.topics import Topics

ONLINE, OFFLINE = "online", "offline"
#: A count topic holds a number; the binary sensor is on while it is above zero.
OCCUPIED_TEMPLATE = "{{ 'ON' if (value | int(0)) > 0 else 'OFF' }}"


def _common(topics: Topics, camera: CameraInfo, object_id: str) -> dict[str, Any]:
    return {
        # No object_id: Home Assistant names entities after the device and `name`, and keys
        # them by unique_id (object_id is deprecated there since 2025.10).
        "unique_id": object_id,
        "availability_topic": topics.available,
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
        "device": {
            "identifiers": [topics.object_id(camera.id)],
            "name": camera.name,
            "manufacturer": "Iris",
            "model": "Camera",
            "sw_version": __version__,
        },
        "origin": {"name": "Iris", "sw_version": __version__},
    }


def discovery_configs(topics: Topics, camera: CameraInfo) -> dict[str, bytes]:
    """Config topic → retained JSON payload for every entity of `camera`."""
    configs: dict[str, bytes] = {}
    for label in camera.labels:
        title = label.replace("_", " ").capitalize()
        occupancy = topics.object_id(camera.id, label)
        configs[topics.discovery("binary_sensor", occupancy)] = encode({
            **_common(topics, camera, occupancy),
            "name": title,
            "device_class": "occupancy",
            "state_topic": topics.objects(camera.id, label),
            "value_template": OCCUPIED_TEMPLATE,
        })
        count = topics.object_id(camera.id, label, "count")
        configs[topics.discovery("sensor", count)] = encode({
            **_common(topics, camera, count),
            "name": f"{title} count",
            "state_topic": topics.objects(camera.id, label),
            "state_class": "measurement",
            "icon": "mdi:counter",
        })
    status = topics.object_id(camera.id, "status")
    configs[topics.discovery("sensor", status)] = encode({
        **_common(topics, camera, status),
        "name": "Status",
        "state_topic": topics.status(camera.id),
        "icon": "mdi:cctv",
        "entity_category": "diagnostic",
    })
    return configs
