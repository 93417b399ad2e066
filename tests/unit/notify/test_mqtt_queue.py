"""The MQTT publisher with no broker to reach: callers return at once, the queue is bounded."""

from __future__ import annotations

import socket

from iris.notify.broker import parse_broker_url
from iris.notify.mqtt import MqttPublisher
from iris.notify.policy import NotifyPolicy
from tests.support.wait import wait_for


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_messages_wait_in_a_bounded_queue_and_the_oldest_go() -> None:
    broker = parse_broker_url(f"mqtt://iris:pw-123456@127.0.0.1:{_closed_port()}")
    publisher = MqttPublisher(broker, NotifyPolicy(), availability_topic="iris/available",
                              queue_size=10)
    publisher.start()
    try:
        for index in range(25):
            publisher.publish("iris/events", str(index).encode())
        publisher.set_state("iris/1/status", b"online")
        publisher.set_state("iris/1/status", b"error")  # coalesced: only the latest is kept
        stats = publisher.stats()
        assert stats["connected"] is False
        assert stats["dropped"] == 15
        assert stats["pending"] == 10 + 1  # ten messages, one coalesced state topic
        wait_for(lambda: publisher.stats()["last_error"], timeout=20, what="connect error")
        error = publisher.stats()["last_error"]
        assert "cannot connect to mqtt://127.0.0.1" in error and "refused" in error.lower()
        assert "pw-123456" not in str(publisher.stats())
    finally:
        publisher.close()
