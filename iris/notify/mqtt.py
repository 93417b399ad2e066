"""One MQTT connection that never blocks its callers (paho-mqtt 2.x, its own network thread).

Two kinds of messages, both QoS 1:

- **state** (retained): availability, camera status, object counts, discovery configs. Only
  the latest value per topic is kept, republished on every (re)connect, so flapping values
  coalesce and a restarted broker gets everything back. An empty payload deletes a retained
  topic (a camera removed) and is forgotten once sent.
- **messages** (not retained): event changes, in order, in a bounded queue that holds them
  while the broker is away; when it is full the oldest is dropped and counted.

Callers only touch that state under our lock. One sender thread hands it to paho, never
holding our lock while it calls paho: paho runs its callbacks (`on_publish` …) while holding
its own locks, and those callbacks take ours. At most `WINDOW` messages are handed to paho
unacknowledged, so paho's buffers stay small and the queue above is the one bound. paho
reconnects by itself with exponential backoff (1 s doubling up to
`NotifyPolicy.mqtt_reconnect_max_s`). The last will marks the instance ``offline`` (retained)
when the connection dies without a goodbye.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import uuid
from collections import deque
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from iris.notify.broker import BrokerAddress
from iris.notify.policy import NotifyPolicy

log = logging.getLogger("iris.notify")

ONLINE, OFFLINE = b"online", b"offline"
QOS = 1
#: Messages handed to paho and not yet acknowledged by the broker, at most.
WINDOW = 64
CLOSE_TIMEOUT_S = 5.0
_HANDED = (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN)


class MqttPublisher:
    """Publishes retained state and queued messages to one broker; see the module notes."""

    def __init__(self, broker: BrokerAddress, policy: NotifyPolicy, *,
                 availability_topic: str, queue_size: int,
                 client_id: str | None = None) -> None:
        self.broker = broker
        self._queue_size = queue_size
        self._availability = availability_topic
        self._cond = threading.Condition()
        self._state: dict[str, bytes] = {availability_topic: ONLINE}
        self._dirty: dict[str, None] = {}  # ordered set: availability goes first
        self._queue: deque[tuple[str, bytes]] = deque()
        self._inflight: set[int] = set()
        self._acked_early: set[int] = set()  # acks that beat `publish` returning its mid
        self._connected = False
        self._closing = False
        self.connects = 0
        self.published = 0
        self.dropped = 0
        self.last_error: str | None = None
        self.last_connected_at: float | None = None

        client = mqtt.Client(CallbackAPIVersion.VERSION2,
                             client_id=client_id or f"iris-{uuid.uuid4().hex[:12]}",
                             protocol=mqtt.MQTTv311, clean_session=True)
        if broker.username is not None:
            client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            client.tls_set_context(policy.ssl_context())
        client.will_set(availability_topic, OFFLINE, qos=QOS, retain=True)
        client.reconnect_delay_set(1, policy.mqtt_reconnect_max_s)
        client.max_inflight_messages_set(WINDOW)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_publish = self._on_publish
        self._client = client
        self._keepalive = policy.mqtt_keepalive_s
        self._sender = threading.Thread(target=self._send_loop, name="mqtt-sender",
                                        daemon=True)

    # ------------------------------------------------------------------ callers
    def start(self) -> None:
        """Connect in the background (returns at once; paho retries until it gets through)."""
        self._sender.start()
        self._client.connect_async(self.broker.host, self.broker.port, self._keepalive)
        self._client.loop_start()

    def set_state(self, topic: str, payload: bytes) -> None:
        """Retain `payload` on `topic` (now, or as soon as the broker is back)."""
        with self._cond:
            if self._state.get(topic) == payload:
                return
            self._state[topic] = payload
            self._dirty[topic] = None
            self._cond.notify_all()

    def clear_state(self, topic: str) -> None:
        """Delete the retained message of `topic` (an empty retained payload)."""
        with self._cond:
            if topic in self._state and self._state[topic]:
                self._state[topic] = b""
                self._dirty[topic] = None
                self._cond.notify_all()

    def publish(self, topic: str, payload: bytes) -> None:
        """Queue a non-retained message; the oldest is dropped (and counted) when full."""
        with self._cond:
            if len(self._queue) >= self._queue_size:
                self._queue.popleft()
                self.dropped += 1
            self._queue.append((topic, payload))
            self._cond.notify_all()

    def close(self) -> None:
        """Say ``offline`` (retained), wait briefly for it to be sent, and disconnect."""
        with self._cond:
            self._closing = True
            connected = self._connected
            self._cond.notify_all()
        if self._sender.is_alive():
            self._sender.join(CLOSE_TIMEOUT_S)
        if connected:
            info = self._client.publish(self._availability, OFFLINE, qos=QOS, retain=True)
            try:
                info.wait_for_publish(CLOSE_TIMEOUT_S)
            except (RuntimeError, ValueError) as exc:
                log.info("MQTT goodbye not confirmed: %s", exc)
        self._client.disconnect()
        self._client.loop_stop()

    def stats(self) -> dict[str, Any]:
        """Connection state and counters for `/api/system` and metrics."""
        with self._cond:
            return {
                "broker": self.broker.display,
                "connected": self._connected,
                "connects": self.connects,
                "published": self.published,
                "dropped": self.dropped,
                "pending": len(self._queue) + len(self._dirty) + len(self._inflight),
                "last_error": self.last_error,
                "last_connected_at": self.last_connected_at,
            }

    # ------------------------------------------------------------------ the sender
    def _next(self) -> tuple[str, bytes, bool] | None:
        """The next message to hand to paho, waiting until one may go; None: closing."""
        with self._cond:
            while True:
                if self._closing:
                    return None
                if self._connected and len(self._inflight) < WINDOW:
                    if self._dirty:
                        topic = next(iter(self._dirty))
                        del self._dirty[topic]
                        payload = self._state.get(topic, b"")
                        if not payload:
                            self._state.pop(topic, None)  # a deletion is sent once
                        return topic, payload, True
                    if self._queue:
                        topic, payload = self._queue.popleft()
                        return topic, payload, False
                self._cond.wait()

    def _send_loop(self) -> None:
        while (item := self._next()) is not None:
            topic, payload, retain = item
            try:
                info = self._client.publish(topic, payload, qos=QOS, retain=retain)
            except Exception as exc:  # noqa: BLE001 - one bad message must not stop the sender
                with self._cond:
                    self.dropped += 1
                    self.last_error = f"publish failed: {exc}"
                continue
            with self._cond:
                # NO_CONN: the link dropped under us; paho keeps QoS 1 messages and resends
                # them after reconnecting, so they count as in flight either way.
                if info.rc not in _HANDED:
                    self.dropped += 1
                    self.last_error = f"publish refused: {mqtt.error_string(info.rc)}"
                elif info.mid in self._acked_early:
                    self._acked_early.discard(info.mid)
                    self.published += 1
                else:
                    self._inflight.add(info.mid)

    # ------------------------------------------------------------------ paho's thread
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any,
                    reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            with self._cond:
                self.last_error = f"broker refused the connection: {reason_code}"
            log.warning("MQTT %s refused the connection: %s", self.broker.display, reason_code)
            return
        with self._cond:
            self._connected = True
            self.connects += 1
            self.last_connected_at = time.time()
            self._state[self._availability] = ONLINE
            self._dirty = dict.fromkeys(self._state)  # the broker may have lost everything
            self._cond.notify_all()
        log.info("MQTT connected to %s", self.broker.display)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any,
                       reason_code: Any, properties: Any) -> None:
        with self._cond:
            was = self._connected
            self._connected = False
            if not self._closing and was:
                self.last_error = f"disconnected: {reason_code}"
        if was and not self._closing:
            log.warning("MQTT %s disconnected (%s); reconnecting", self.broker.display,
                        reason_code)

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        # paho calls this from inside its `except OSError:`: the exception says why.
        why = sys.exc_info()[1]
        with self._cond:
            self.last_error = f"cannot connect to {self.broker.display}" + (
                f": {why}" if why is not None else "")

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int,
                    reason_code: Any, properties: Any) -> None:
        with self._cond:
            if mid in self._inflight:
                self._inflight.discard(mid)
                self.published += 1
                self._cond.notify_all()
            else:
                self._acked_early.add(mid)
