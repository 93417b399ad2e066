"""Notification latency: `event_changed` → a subscriber holding the message, against bare paho.

The issue wants an alert on MQTT within a second of the event opening. Measured on a real
mosquitto on loopback, one message at a time (each waits for the previous to arrive), the
time from the call to the subscriber's `on_message`, for:

- **bare paho**: a paho client publishing QoS 1 straight to the broker (the baseline);
- **Notifier**: `Notifier.event_changed` in this process (JSON, queue, paho);
- **Notifier actor**: `RayNotifyClient.event_changed` — what a camera calls — through Ray to
  the `NotifierActor` (fire and forget, as the cameras do), then the broker.

    .venv/bin/python -m bench.notify_bench [--count 300] [--no-ray]

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


def run(count: int, with_ray: bool) -> str:
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
    base = statistics.median(results["bare paho (baseline)"])
    for name, values in results.items():
        values.sort()
        median = statistics.median(values)
        p95 = values[int(len(values) * 0.95) - 1]
        rows.append([name, f"{median:.2f}", f"{p95:.2f}", f"{max(values):.2f}",
                     f"{median / base:.1f}×"])
    header = ["path", "median ms", "p95 ms", "max ms", "median vs bare paho"]
    return (f"### Notification latency (call → subscriber), {count} messages each\n\n"
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
    args = parser.parse_args()
    report = run(args.count, not args.no_ray)
    write_report("notify", report)
    print(report)


if __name__ == "__main__":
    main()
