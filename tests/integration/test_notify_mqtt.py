"""MQTT against a real broker (Debian's mosquitto on loopback): discovery, events, last will,
reconnects, TLS and credentials; then the Notifier actor end to end with real event rows.

Most tests drive the plain `Notifier` (no Ray); the last ones run `NotifierActor` in the
session's Ray cluster. The camera worker's own calls (a real RTSP presence producing
``new``/``end``) are tested with the camera wiring (iris/actors/worker.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from iris.notify import CameraInfo, Notifier, NotifyPolicy
from iris.settings import load_settings
from tests.support.mosquitto import Mosquitto, Subscriber, mosquitto_installed
from tests.support.tls import self_signed
from tests.support.wait import wait_for

pytestmark = pytest.mark.skipif(not mosquitto_installed(), reason="mosquitto not installed")

DRIVE = CameraInfo(1, "Drive", ("person", "motion"), "online")
PERSON_CONFIG = "homeassistant/binary_sensor/iris_1_person/config"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    with Mosquitto(tmp_path / "broker") as server:
        yield server


def _notifier(url: str, policy: NotifyPolicy | None = None, **settings: object) -> Notifier:
    notifier = Notifier.from_settings(load_settings(mqtt_url=url, **settings), policy)
    notifier.start()
    return notifier


def _settled(notifier: Notifier) -> bool:
    mqtt = notifier.stats()["mqtt"]
    return bool(mqtt["connected"] and mqtt["pending"] == 0)


def _event(event_id: int, *, in_progress: bool = True) -> dict[str, object]:
    return {"id": event_id, "camera_id": 1, "kind": "track", "label": "person",
            "in_progress": in_progress}


def test_discovery_configs_are_retained_and_follow_the_cameras(broker: Mosquitto) -> None:
    notifier = _notifier(broker.url())
    try:
        notifier.set_cameras([DRIVE])
        wait_for(lambda: _settled(notifier), timeout=20, what="discovery published")
        with Subscriber(broker, ["homeassistant/#", "iris/#"]) as late:  # after the fact
            late.sync()
        config = late.last(PERSON_CONFIG)
        assert config is not None and config.retain
        body = json.loads(config.payload)
        assert body["state_topic"] == "iris/1/person"
        assert body["availability_topic"] == "iris/available"
        assert body["device"]["name"] == "Drive"
        retained = {m.topic: m.text for m in late.messages() if m.retain}
        assert retained["iris/available"] == "online"
        assert retained["iris/1/status"] == "online"
        assert retained["iris/1/person"] == "0"
        assert {"homeassistant/sensor/iris_1_status/config",
                "homeassistant/binary_sensor/iris_1_motion/config",
                "homeassistant/sensor/iris_1_person_count/config"} <= set(retained)

        # The camera now triggers on cars and is renamed: person's configs go, car's come.
        notifier.set_cameras([CameraInfo(1, "Driveway", ("car", "motion"), "online")])
        wait_for(lambda: _settled(notifier), timeout=20, what="rediscovered")
        with Subscriber(broker, ["homeassistant/#"]) as late:
            late.sync()
        car = late.last("homeassistant/binary_sensor/iris_1_car/config")
        assert car is not None and json.loads(car.payload)["device"]["name"] == "Driveway"
        assert late.last(PERSON_CONFIG) is None

        notifier.set_cameras([])  # deleted: nothing of it stays on the broker
        wait_for(lambda: _settled(notifier), timeout=20, what="forgotten")
        with Subscriber(broker, ["homeassistant/#", "iris/1/#"]) as late:
            late.sync()
        assert late.messages() == []
    finally:
        notifier.close()


def test_events_counts_and_status(broker: Mosquitto) -> None:
    with Subscriber(broker, ["iris/#"]) as sub:
        notifier = _notifier(broker.url())
        try:
            notifier.set_cameras([DRIVE])
            sub.wait_last("iris/available", "online")
            notifier.event_changed("new", None, _event(5))
            notifier.objects(1, "person", 2)
            notifier.event_changed("end", _event(5), _event(5, in_progress=False))
            notifier.camera_status(1, "error")
            sub.wait_last("iris/1/status", "error")
            wait_for(lambda: len(sub.messages("iris/events")) == 2, timeout=20, what="events")
        finally:
            notifier.close()
    new, end = (json.loads(m.payload) for m in sub.messages("iris/events"))
    assert new == {"type": "new", "before": None, "after": _event(5)}
    assert end["type"] == "end" and end["before"]["in_progress"] is True
    assert end["after"]["in_progress"] is False
    assert sub.last("iris/1/person").text == "2"
    assert not any(m.retain for m in sub.messages("iris/events"))
    assert sub.last("iris/available").text == "offline"  # closed cleanly: says goodbye


def test_a_burst_from_several_threads_arrives_whole_and_in_order(broker: Mosquitto) -> None:
    """Callers publish while the broker acknowledges: neither side may wait on the other."""
    import threading

    with Subscriber(broker, ["iris/events"]) as sub:
        notifier = _notifier(broker.url(), notify_queue_size=5000)
        try:
            wait_for(lambda: _settled(notifier), timeout=20, what="connected")

            def burst(camera_id: int) -> None:
                for index in range(500):
                    notifier.event_changed("update", None, {**_event(index),
                                                            "camera_id": camera_id})
                    notifier.objects(camera_id, "person", index % 3)

            threads = [threading.Thread(target=burst, args=(cam,)) for cam in (1, 2, 3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert not any(thread.is_alive() for thread in threads), "a caller was blocked"
            wait_for(lambda: len(sub.messages("iris/events")) == 1500, timeout=60,
                     what="every event change")
        finally:
            notifier.close()
    bodies = [json.loads(m.payload)["after"] for m in sub.messages("iris/events")]
    for camera_id in (1, 2, 3):
        assert [b["id"] for b in bodies if b["camera_id"] == camera_id] == list(range(500))
    assert notifier.stats()["mqtt"]["dropped"] == 0


def test_a_killed_publisher_reads_offline_by_its_last_will(broker: Mosquitto) -> None:
    with Subscriber(broker, ["iris/available"]) as sub:
        proc = subprocess.Popen([sys.executable, "-m", "tests.support.notify_publisher",
                                 broker.url()], cwd=ROOT, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "connected"
            sub.wait_last("iris/available", "online")
            os.kill(proc.pid, signal.SIGKILL)  # no goodbye: only the will can say it
            proc.wait(timeout=10)
            sub.wait_last("iris/available", "offline")
        finally:
            if proc.poll() is None:
                proc.kill()
    with Subscriber(broker, ["iris/available"]) as late:
        late.sync()
    message = late.last("iris/available")
    assert message is not None and message.retain and message.text == "offline"


def test_reconnects_after_a_broker_restart_with_what_was_queued(broker: Mosquitto) -> None:
    notifier = _notifier(broker.url(), notify_queue_size=10)
    try:
        notifier.set_cameras([DRIVE])
        with Subscriber(broker, ["iris/#"]) as sub:  # a persistent session: kept by the broker
            notifier.event_changed("new", None, _event(1))
            wait_for(lambda: sub.messages("iris/events"), timeout=20, what="first event")
            broker.stop()
            wait_for(lambda: not notifier.stats()["mqtt"]["connected"], timeout=20,
                     what="notifier noticed")
            for event_id in range(100, 115):  # while the broker is away; the queue holds 10
                notifier.event_changed("update", _event(event_id), _event(event_id))
            notifier.camera_status(1, "error")
            assert notifier.stats()["mqtt"]["dropped"] == 5
            broker.start()
            wait_for(lambda: len(sub.messages("iris/events")) == 11, timeout=60, interval=0.1,
                     what="queued events after the restart")
            ids = [json.loads(m.payload)["after"]["id"] for m in sub.messages("iris/events")]
            assert ids == [1, *range(105, 115)]
        with Subscriber(broker, ["iris/1/status", "iris/available"]) as late:
            late.sync()
        assert late.last("iris/1/status").text == "error"
        assert late.last("iris/available").text == "online"
        stats = notifier.stats()["mqtt"]
        assert stats["connects"] == 2 and stats["connected"]
    finally:
        notifier.close()


def test_mqtts_verifies_the_broker_certificate(tmp_path: Path) -> None:
    certificate = self_signed(tmp_path / "tls")
    with Mosquitto(tmp_path / "broker", certificate=certificate) as broker:
        trusted = _notifier(broker.url(), NotifyPolicy(ca_file=certificate.cert))
        untrusted = _notifier(broker.url(), NotifyPolicy())
        unverified = _notifier(broker.url(), NotifyPolicy(tls_verify=False))
        try:
            wait_for(lambda: _settled(trusted) and _settled(unverified), timeout=30,
                     what="TLS connections")
            wait_for(lambda: untrusted.stats()["mqtt"]["last_error"], timeout=30,
                     what="untrusted refused")
            assert "CERTIFICATE_VERIFY_FAILED" in untrusted.stats()["mqtt"]["last_error"]
            assert not untrusted.stats()["mqtt"]["connected"]
        finally:
            for notifier in (trusted, untrusted, unverified):
                notifier.close()


def test_credentials_from_the_url(tmp_path: Path) -> None:
    with Mosquitto(tmp_path / "broker", user=("iris", "p@ss:word")) as broker:
        good = _notifier(broker.url("iris:p%40ss%3Aword"))
        bad = _notifier(broker.url("iris:wrong-password"))
        try:
            wait_for(lambda: _settled(good), timeout=30, what="authenticated")
            wait_for(lambda: bad.stats()["mqtt"]["last_error"], timeout=30, what="refused")
            stats = bad.stats()["mqtt"]
            assert "refused" in stats["last_error"] and not stats["connected"]
            assert "wrong-password" not in json.dumps(stats)
        finally:
            good.close()
            bad.close()


# ----------------------------------------------------------------------------- the actor
def test_notifier_actor_end_to_end_with_event_rows(iris, engine, broker: Mosquitto) -> None:
    """Real event rows through `RayNotifyClient` → actor → broker; then the actor is killed
    (its will says offline) and Ray brings it back (online again)."""
    import ray
    from sqlmodel import Session

    from iris.actors.event_store import EventStore
    from iris.actors.notifier import NotifierActor, RayNotifyClient
    from iris.db.tables import Camera, Event

    with Session(engine) as session:
        camera = Camera(name=f"notify-{uuid.uuid4().hex[:6]}", rtsp_url="rtsp://127.0.0.1:9/x",
                        enabled=False, trigger_classes="person,car")
        session.add(camera)
        session.commit()
        camera_id = camera.id
    assert camera_id is not None
    settings = load_settings(**{**iris.settings.model_dump(), "mqtt_url": broker.url()})
    handle = NotifierActor.options(name=f"Notifier-{uuid.uuid4().hex[:8]}",
                                   namespace=iris.settings.ray_namespace).remote(settings)
    client = RayNotifyClient(handle)
    config = f"homeassistant/binary_sensor/iris_{camera_id}_car/config"
    try:
        with Subscriber(broker, ["iris/#", "homeassistant/#"]) as sub:
            wait_for(lambda: sub.last(config), timeout=60, what="discovery of the camera")
            store = EventStore(engine, camera_id, iris.settings.root)
            event_id = store.open(kind="track", label="person", score=0.8,
                                  ts=datetime.now(UTC).timestamp())
            with Session(engine) as session:
                opened = session.get(Event, event_id)
            assert opened is not None
            client.event_changed("new", None, opened)
            client.objects(camera_id, "person", 1)
            # Counts are state: a newer value replaces one not yet sent, so wait for this one.
            sub.wait_last(f"iris/{camera_id}/person", "1")
            store.finish(event_id, ts=opened.ts.timestamp(), end_ts=opened.ts.timestamp() + 3,
                         duration=3.0, clip_path=None, thumb_path=None)
            with Session(engine) as session:
                finished = session.get(Event, event_id)
            assert finished is not None
            client.event_changed("end", opened, finished)
            client.objects(camera_id, "person", 0)
            wait_for(lambda: len(sub.messages("iris/events")) == 2, timeout=30, what="events")
            sub.wait_last(f"iris/{camera_id}/person", "0")
            new, end = (json.loads(m.payload) for m in sub.messages("iris/events"))
            assert (new["type"], new["before"], new["after"]["id"]) == ("new", None, event_id)
            assert new["after"]["in_progress"] is True and new["after"]["camera_id"] == camera_id
            assert (end["type"], end["after"]["in_progress"]) == ("end", False)
            assert end["after"]["duration"] == 3.0 and end["before"]["in_progress"] is True

            stats = ray.get(handle.stats.remote(), timeout=30)
            assert stats["events"] == 2 and stats["mqtt"]["connected"]

            os.kill(ray.get(handle.pid.remote(), timeout=30), signal.SIGKILL)
            sub.wait_last("iris/available", "offline", timeout=30)
            sub.wait_last("iris/available", "online", timeout=120)  # restarted by Ray
    finally:
        ray.get(handle.close.remote(), timeout=30)
        ray.kill(handle, no_restart=True)
