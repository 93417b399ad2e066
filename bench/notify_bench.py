"""Notification latency: `event_changed` → a subscriber holding the message, against bare paho.

The issue wants an alert on MQTT within a second of the event opening. Measured on a real
mosquitto on loopback, one message at a time (each waits for the previous to arrive), the
time from the call to the subscriber's `on_message`, for:

- **bare paho**: a paho client publishing QoS 1 straight to the broker (the baseline);
- **Notifier**: `Notifier.event_changed` in this process (JSON, queue, paho);
- **Notifier actor**: `RayNotifyClient.event_changed` — what a camera calls — through Ray to
  the `NotifierActor` (fire and forget, as the cameras do), then the broker.

Then, end to end in a real `iris up` (stand-in detector, an RTSP presence every 6 s, detection
every 0.2 s): from the moment a camera opens an event (its row's `created_at`, written by the
camera process) to the subscriber holding its ``new`` on ``iris/events`` — the row read back,
the API view, Ray, the Notifier, the broker. Reported against the same run's bare paho median
and against the camera's detection interval.

    .venv/bin/python -m bench.notify_bench [--count 300] [--no-ray] [--events 20] [--no-iris]

Writes ``bench/out/notify.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.common import table, write_report
from iris.notify import CameraInfo, Notifier
from iris.settings import load_settings
from tests.support.mosquitto import Mosquitto, Subscriber
from tests.support.wait import wait_for

WARMUP = 20


def _event(index: int) -> dict[str, object]:
    return {"id": index, "camera_id": 1, "kind": "track", "label": "person",
            "in_progress": True}


def measure(subscriber: Subscriber, send: Callable[[int], None], count: int,
            first_id: int) -> list[float]:
    """Milliseconds from `send(id)` to the subscriber's receipt, one message at a time."""
    latencies = []
    for index in range(first_id, first_id + WARMUP + count):
        seen = len(subscriber.messages("iris/events"))
        started = time.monotonic()
        send(index)
        message = wait_for(lambda n=seen: subscriber.messages("iris/events")[n:], timeout=30,
                           interval=0.0005, what=f"message {index}")[0]
        assert json.loads(message.payload)["after"]["id"] == index
        if index >= first_id + WARMUP:
            latencies.append((message.at - started) * 1000)
    return latencies


def bare_paho(broker: Mosquitto) -> tuple[mqtt.Client, Callable[[int], None]]:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bare-{uuid.uuid4().hex[:8]}")
    connected: list[bool] = []
    client.on_connect = lambda *_: connected.append(True)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    wait_for(lambda: connected, timeout=20, what="bare client connected")

    def send(index: int) -> None:
        body = json.dumps({"type": "new", "before": None, "after": _event(index)},
                          separators=(",", ":"))
        client.publish("iris/events", body, qos=1)

    return client, send


DETECT_INTERVAL_S = 0.2


def _open_to_mqtt(folder: Path, broker: Mosquitto, events: int) -> list[float]:
    """Milliseconds from each event's opening in a real `iris up` to its ``new`` on MQTT."""
    from bench.iris_harness import BenchIris
    from iris.models.standins import build_standin_detector
    from tests.support.media import to_annexb
    from tests.support.rtsp import RtspServer
    from tests.support.scenes import presence_scene

    weights = build_standin_detector(folder / "standin.onnx", imgsz=320)
    clip = presence_scene(folder / "person.mp4", loop_s=6, enter_s=1, leave_s=3)
    server = RtspServer(to_annexb(clip), fps=25, log_path=folder / "rtsp.log")
    server.start()
    try:
        iris = BenchIris(folder / "iris", detector_model=weights, IRIS_MQTT_URL=broker.url())
        with Subscriber(broker, ["iris/events"]) as subscriber:
            iris.start_retrying()

            def opened() -> list[tuple[float, float]]:
                now_wall, now_mono = time.time(), time.monotonic()
                found = []
                for message in subscriber.messages("iris/events"):
                    body = json.loads(message.payload)
                    if body["type"] == "new":
                        created = datetime.fromisoformat(body["after"]["created_at"])
                        found.append((created.timestamp(), now_wall - (now_mono - message.at)))
                return found

            try:
                iris.add_camera("Bench", server.url, pre_seconds=1, post_seconds=1,
                                min_trigger_frames=2, detect_interval=DETECT_INTERVAL_S)
                pairs = wait_for(lambda: len(opened()) >= events + 1 and opened(),
                                 timeout=120 + 10 * events, interval=0.5,
                                 what=f"{events} events")
            finally:
                iris.stop()
    finally:
        server.stop()
    return [(received - created) * 1000 for created, received in pairs[1:events + 1]]


def run(count: int, with_ray: bool, events: int = 0) -> str:
    rows = []
    with tempfile.TemporaryDirectory() as tmp, Mosquitto(Path(tmp) / "broker") as broker, \
            Subscriber(broker, ["iris/events"]) as subscriber:
        client, send = bare_paho(broker)
        results = {"bare paho (baseline)": measure(subscriber, send, count, 0)}
        client.disconnect()
        client.loop_stop()

        settings = load_settings(data_dir=Path(tmp) / "data", mqtt_url=broker.url())
        notifier = Notifier.from_settings(settings)
        notifier.set_cameras([CameraInfo(1, "Bench", ("person", "motion"), "online")])
        notifier.start()
        results["Notifier (in process)"] = measure(
            subscriber, lambda i: notifier.event_changed("new", None, _event(i)), count, 10_000)
        notifier.close()

        if with_ray:
            results["Notifier actor (via Ray)"] = _through_ray(settings, subscriber, count)
        if events:
            results["event opened in iris up → new"] = _open_to_mqtt(Path(tmp), broker, events)
    base = statistics.median(results["bare paho (baseline)"])
    for name, values in results.items():
        values.sort()
        median = statistics.median(values)
        p95 = values[int(len(values) * 0.95) - 1]
        rows.append([name, len(values), f"{median:.2f}", f"{p95:.2f}", f"{max(values):.2f}",
                     f"{median / base:.1f}×",
                     f"{median / (DETECT_INTERVAL_S * 1000):.2f}×"])
    header = ["path", "samples", "median ms", "p95 ms", "max ms", "median vs bare paho",
              f"median vs a {DETECT_INTERVAL_S:g} s detect interval"]
    return ("### Notification latency (call, or event opened → subscriber has it)\n\n"
            + table(header, rows) + "\n")


def _through_ray(settings, subscriber: Subscriber, count: int) -> list[float]:
    import ray

    from iris.actors.notifier import NotifierActor, RayNotifyClient

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        handle = NotifierActor.remote(settings)
        ray.get(handle.stats.remote(), timeout=60)
        client = RayNotifyClient(handle)
        return measure(subscriber, lambda i: client.event_changed("new", None, _event(i)),
                       count, 20_000)
    finally:
        ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--no-ray", action="store_true", help="skip the actor path")
    parser.add_argument("--events", type=int, default=20,
                        help="events to time in a real iris up (0: skip it)")
    parser.add_argument("--no-iris", action="store_true", help="skip the iris up part")
    args = parser.parse_args()
    report = run(args.count, not args.no_ray, 0 if args.no_iris else args.events)
    write_report("notify", report)
    print(report)


if __name__ == "__main__":
    main()
