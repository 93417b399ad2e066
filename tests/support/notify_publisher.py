"""A process that holds a Notifier's MQTT connection until it is killed (for last-will tests).

    python -m tests.support.notify_publisher <mqtt_url>

Publishes one camera's discovery, prints ``connected`` once the broker acknowledged it, then
waits for stdin to close.
"""

from __future__ import annotations

import sys

from iris.notify import CameraInfo, Notifier
from iris.settings import load_settings
from tests.support.wait import wait_for


def main(url: str) -> None:
    notifier = Notifier.from_settings(load_settings(mqtt_url=url))
    notifier.set_cameras([CameraInfo(1, "Drive", ("person", "motion"), "online")])
    notifier.start()

    def settled() -> bool:
        mqtt = notifier.stats()["mqtt"]
        return bool(mqtt["connected"] and mqtt["pending"] == 0)

    wait_for(settled, timeout=30, interval=0.05, what="published")
    print("connected", flush=True)
    sys.stdin.read()
    notifier.close()


if __name__ == "__main__":
    main(sys.argv[1])
