"""Notifications from a real `iris up`: a real mosquitto, a real RTSP presence seen by the
stand-in detector, a webhook receiver on this machine's own (non-loopback) address.

Iris is configured as an operator would (a YAML file with `mqtt_url` and `webhooks`):
discovery is retained for the camera it gets, `iris/available` reads ``online``, the
presence's ``new`` and ``end`` reach MQTT with the event exactly as ``GET /api/events/{id}``
returns it, counts and status follow, the webhook gets the same body signed, `/api/system`
and the metrics show the delivery state without any secret; Iris reconnects after the broker
restarts, republishes discovery on a rename and clears it on a delete, says ``offline`` on a
clean stop, and its last will says it when everything is killed.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterator

import httpx
import psutil
import pytest

from iris.models.standins import build_standin_detector
from iris.notify import verify
from tests.integration.iris_process import IrisProcess
from tests.support.media import to_annexb
from tests.support.mosquitto import Message, Mosquitto, Subscriber, mosquitto_installed
from tests.support.rtsp import RtspServer, gstreamer_available
from tests.support.scenes import presence_scene
from tests.support.wait import wait_for
from tests.support.webhook_receiver import WebhookReceiver

PASSWORD = "broker-pass-9c1e"
SECRET = "webhook-secret-4b7d"
HOOK_PATH = "/api/webhook/iris-alerts-7f3a"
CAMERA = {"pre_seconds": 1, "post_seconds": 1, "min_trigger_frames": 2, "detect_interval": 0.2}


def local_address() -> str | None:
    """An IPv4 address of this machine that webhooks may target (not loopback/link-local)."""
    for addresses in psutil.net_if_addrs().values():
        for entry in addresses:
            if entry.family.name != "AF_INET":
                continue
            ip = ipaddress.ip_address(entry.address)
            if not (ip.is_loopback or ip.is_link_local or ip.is_unspecified):
                return entry.address
    return None


pytestmark = [
    pytest.mark.skipif(not gstreamer_available(), reason="GStreamer RTSP missing"),
    pytest.mark.skipif(not mosquitto_installed(), reason="mosquitto not installed"),
    pytest.mark.skipif(local_address() is None, reason="no non-loopback address for webhooks"),
]


@pytest.fixture(scope="module")
def presence(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    """A 12 s loop with a person marker from 2 s to 5 s: one event per loop."""
    folder = tmp_path_factory.mktemp("presence")
    clip = presence_scene(folder / "person.mp4", loop_s=12, enter_s=2, leave_s=5)
    server = RtspServer(to_annexb(clip), fps=25, log_path=folder / "server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    with Mosquitto(tmp_path_factory.mktemp("broker"), user=("iris", PASSWORD)) as server:
        yield server


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    address = local_address()
    assert address is not None
    with WebhookReceiver(address) as server:
        yield server


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory, broker: Mosquitto,
             receiver: WebhookReceiver) -> Callable[[], IrisProcess]:
    """Makes the `iris up` of these tests (one data dir); each gets its port right before it
    starts (a port picked minutes earlier may have been taken meanwhile)."""
    folder = tmp_path_factory.mktemp("iris")
    weights = build_standin_detector(folder / "standin.onnx", imgsz=320)
    config = folder / "iris.yaml"
    config.write_text(json.dumps({  # YAML is a superset of JSON
        "mqtt_url": broker.url(f"iris:{PASSWORD}"),
        "webhooks": [{"url": receiver.url(HOOK_PATH), "events": ["new", "end"],
                      "secret": SECRET}],
    }))
    return lambda: IrisProcess(folder / "data", folder / "iris.log", IRIS_CONFIG=str(config),
                               IRIS_DETECTOR_MODEL=str(weights))


def _start(instance: Callable[[], IrisProcess], attempts: int = 3) -> IrisProcess:
    """`iris up`, tried again when it does not come up: on a box loaded by other Ray
    clusters, Ray's raylet misses its fixed 30 s to register, a port picked free is taken
    before Serve binds it, or Serve's proxy is cancelled before it ran."""
    for attempt in range(1, attempts + 1):
        try:
            return instance().start(timeout=300)
        except AssertionError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def _subscriber(broker: Mosquitto) -> Subscriber:
    return Subscriber(broker, ["iris/#", "homeassistant/#"], credentials=("iris", PASSWORD))


def _events(sub: Subscriber, camera: int) -> list[dict]:
    bodies = [json.loads(m.payload) for m in sub.messages("iris/events")]
    return [b for b in bodies if b["after"]["camera_id"] == camera]


def _event_pair(sub: Subscriber, camera: int, after: int = 0) -> tuple[dict, dict]:
    """The first ``new`` after the first `after` messages, and its ``end``."""
    def pair() -> tuple[dict, dict] | None:
        seen = _events(sub, camera)[after:]
        new = next((b for b in seen if b["type"] == "new"), None)
        if new is None:
            return None
        end = next((b for b in seen if b["type"] == "end"
                    and b["after"]["id"] == new["after"]["id"]), None)
        return (new, end) if end is not None else None

    return wait_for(pair, timeout=120, interval=0.1, what="new and end of a presence")


def _notifications(client: httpx.Client) -> dict:
    answer = client.get("/api/system")
    assert answer.status_code == 200, answer.text
    for secret in (PASSWORD, SECRET, HOOK_PATH):
        assert secret not in answer.text
    return answer.json()["notifications"]


def _retained(broker: Mosquitto) -> dict[str, Message]:
    """What a subscriber arriving now gets: the retained message of every topic."""
    with _subscriber(broker) as late:
        late.sync()
        return {m.topic: m for m in late.messages() if m.retain}


@pytest.mark.timeout(1200)  # one iris up (minutes on a loaded box), two presences, a restart
def test_iris_up_notifies_mqtt_and_webhooks(instance: Callable[[], IrisProcess],
                                            broker: Mosquitto, receiver: WebhookReceiver,
                                            presence: RtspServer) -> None:
    with _subscriber(broker) as sub:
        iris = _start(instance)
        try:
            sub.wait_last("iris/available", "online", timeout=60)
            with iris.client() as client:
                created = client.post("/api/cameras", json={
                    "name": "Drive", "rtsp_url": presence.url, **CAMERA})
                assert created.status_code == 201, created.text
                camera = created.json()["id"]
                person = f"homeassistant/binary_sensor/iris_{camera}_person/config"
                wait_for(lambda: sub.last(person), timeout=60, what="discovery of the camera")
                sub.wait_last(f"iris/{camera}/status", "online", timeout=60)

                new, end = _event_pair(sub, camera)
                event_id = new["after"]["id"]
                assert new["before"] is None and new["after"]["in_progress"] is True
                # new, then updates (an identity linked …), then end; each change's before is
                # the previous one's after.
                changes = [b for b in _events(sub, camera) if b["after"]["id"] == event_id]
                kinds = [b["type"] for b in changes]
                assert kinds[0] == "new" and kinds[-1] == "end" and \
                    set(kinds[1:-1]) <= {"update"}, kinds
                for previous, change in zip(changes, changes[1:], strict=False):
                    assert change["before"] == previous["after"]
                assert end["after"]["in_progress"] is False
                # The event as the API returns it, field for field.
                assert end["after"] == client.get(f"/api/events/{event_id}").json()
                counts = [m.text for m in sub.messages(f"iris/{camera}/person")]
                assert "1" in counts and "0" in counts[counts.index("1"):], counts

                retained = _retained(broker)
                assert retained["iris/available"].text == "online"
                assert retained[f"iris/{camera}/status"].text == "online"
                config = json.loads(retained[person].payload)
                assert config["state_topic"] == f"iris/{camera}/person"
                assert config["availability_topic"] == "iris/available"
                assert config["device"]["name"] == "Drive"
                assert f"homeassistant/sensor/iris_{camera}_status/config" in retained

                # The webhook got both, signed, with the same bytes as MQTT's message.
                def delivered() -> list:
                    return [r for r in receiver.requests
                            if json.loads(r.body)["after"]["id"] == event_id]

                hooks = wait_for(lambda: len(delivered()) >= 2 and delivered(), timeout=60,
                                 what="webhook deliveries")
                assert [r.headers["X-Iris-Event"] for r in hooks[:2]] == ["new", "end"]
                assert all(r.path == HOOK_PATH for r in hooks)
                assert all(verify(r.body, SECRET, r.headers["X-Iris-Signature"])
                           for r in hooks)
                assert json.loads(hooks[1].body) == end

                notifications = wait_for(
                    lambda: (n := _notifications(client))["webhooks"][0]["delivered"] >= 2
                    and n, timeout=30, what="deliveries counted")
                assert notifications["enabled"] and notifications["running"]
                assert notifications["mqtt"]["connected"] is True
                assert notifications["mqtt"]["broker"] == f"mqtt://127.0.0.1:{broker.port}"
                assert notifications["webhooks"][0]["target"] == \
                    f"http://{receiver.host}:{receiver.port}"
                metrics = client.get("/api/system/metrics").text
                assert "iris_notify_mqtt_connected 1" in metrics
                assert "iris_notify_webhook_delivered_total" in metrics
                for secret in (PASSWORD, SECRET, HOOK_PATH):
                    assert secret not in metrics

                # The broker restarts: Iris reconnects and the next presence arrives.
                before_restart = len(_events(sub, camera))
                broker.stop()
                wait_for(lambda: not _notifications(client)["mqtt"]["connected"], timeout=60,
                         what="the broker's loss noticed")
                broker.start()
                wait_for(lambda: _notifications(client)["mqtt"]["connects"] >= 2, timeout=90,
                         what="reconnected")
                _event_pair(sub, camera, after=before_restart)

                # A rename republishes discovery; a delete clears it.
                renamed = client.put(f"/api/cameras/{camera}", json={"name": "Driveway"})
                assert renamed.status_code == 200, renamed.text
                wait_for(lambda: json.loads(sub.last(person).payload or b"{}")  # type: ignore[union-attr]
                         .get("device", {}).get("name") == "Driveway", timeout=60,
                         what="discovery renamed")
                assert client.delete(f"/api/cameras/{camera}").status_code == 204
                wait_for(lambda: sub.last(person).payload == b"",  # type: ignore[union-attr]
                         timeout=60, what="discovery cleared")
                assert person not in _retained(broker)
        finally:
            iris.stop()
        sub.wait_last("iris/available", "offline", timeout=60)  # said on the way out
    log = iris.log.read_text(errors="replace")
    for secret in (PASSWORD, SECRET, HOOK_PATH):
        assert secret not in log


@pytest.mark.timeout(900)
def test_killed_iris_reads_offline_by_its_last_will(instance: Callable[[], IrisProcess],
                                                    broker: Mosquitto) -> None:
    with _subscriber(broker) as sub:
        iris = _start(instance)
        try:
            sub.wait_last("iris/available", "online", timeout=60)
        finally:
            iris.kill_all()
        sub.wait_last("iris/available", "offline", timeout=60)
    assert _retained(broker)["iris/available"].text == "offline"
