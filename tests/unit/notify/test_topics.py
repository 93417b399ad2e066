"""Topic names and Home Assistant discovery configs."""

from __future__ import annotations

import json

import pytest

from iris.notify.cameras import CameraInfo
from iris.notify.discovery import discovery_configs
from iris.notify.topics import Topics, slug

FRONT = CameraInfo(id=3, name="Front door", labels=("person", "traffic light", "motion"))


@pytest.mark.parametrize(("text", "expected"), [
    ("person", "person"), ("Traffic Light", "traffic_light"), ("a/b+#c", "a_b_c"),
    ("  ", "_"), ("x-y_z9", "x-y_z9"),
])
def test_slug(text: str, expected: str) -> None:
    assert slug(text) == expected


def test_topics_are_keyed_by_camera_id() -> None:
    topics = Topics()
    assert topics.available == "iris/available"
    assert topics.events == "iris/events"
    assert topics.objects(3, "traffic light") == "iris/3/traffic_light"
    assert topics.status(3) == "iris/3/status"
    assert topics.discovery("binary_sensor", topics.object_id(3, "person")) == (
        "homeassistant/binary_sensor/iris_3_person/config")


def test_custom_prefixes() -> None:
    topics = Topics("site/a", "ha")
    assert topics.objects(1, "car") == "site/a/1/car"
    assert topics.object_id(1, "car") == "site_a_1_car"
    assert topics.discovery("sensor", "x") == "ha/sensor/x/config"


def test_discovery_per_camera() -> None:
    topics = Topics()
    configs = {topic: json.loads(body) for topic, body in discovery_configs(topics, FRONT).items()}
    assert set(configs) == {
        "homeassistant/binary_sensor/iris_3_person/config",
        "homeassistant/sensor/iris_3_person_count/config",
        "homeassistant/binary_sensor/iris_3_traffic_light/config",
        "homeassistant/sensor/iris_3_traffic_light_count/config",
        "homeassistant/binary_sensor/iris_3_motion/config",
        "homeassistant/sensor/iris_3_motion_count/config",
        "homeassistant/sensor/iris_3_status/config",
    }
    person = configs["homeassistant/binary_sensor/iris_3_person/config"]
    assert person["state_topic"] == "iris/3/person"
    assert person["device_class"] == "occupancy"
    assert person["availability_topic"] == "iris/available"
    assert (person["payload_available"], person["payload_not_available"]) == ("online",
                                                                            "offline")
    assert person["device"]["identifiers"] == ["iris_3"]
    assert person["device"]["name"] == "Front door"
    status = configs["homeassistant/sensor/iris_3_status/config"]
    assert status["state_topic"] == "iris/3/status"
    ids = [config["unique_id"] for config in configs.values()]
    assert len(set(ids)) == len(ids)


def test_unique_ids_differ_between_cameras_and_instances() -> None:
    other = CameraInfo(id=4, name="Front door", labels=("person",))
    ids = set()
    for topics in (Topics(), Topics("iris2")):
        for camera in (FRONT, other):
            ids |= {json.loads(body)["unique_id"]
                    for body in discovery_configs(topics, camera).values()}
    assert len(ids) == 2 * (7 + 3)


def test_the_occupancy_template_reads_a_count() -> None:
    # Home Assistant renders it with Jinja; jinja2 ships with Ray's dependencies here.
    jinja2 = pytest.importorskip("jinja2")
    body = discovery_configs(Topics(), FRONT)["homeassistant/binary_sensor/iris_3_person/config"]
    template = jinja2.Environment().from_string(json.loads(body)["value_template"])
    assert [template.render(value=v) for v in ("0", "2", "")] == ["OFF", "ON", "OFF"]
