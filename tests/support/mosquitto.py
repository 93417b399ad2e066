"""A real MQTT broker for tests (Debian's mosquitto) on a free loopback port, and a subscriber.

`Mosquitto` runs its own broker process with its own config (no system service): plain or
TLS, anonymous or with one user, with persistence so that a restart keeps retained messages
and the queued messages of persistent subscriber sessions — like a real broker that restarts.
`Subscriber` is a paho client that records every message it gets and reconnects by itself.
"""

from __future__ import annotations

import getpass
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.support.tls import Certificate
from tests.support.wait import wait_for

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def mosquitto_installed() -> bool:
    return Path(MOSQUITTO).is_file()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Mosquitto:
    """One mosquitto broker on 127.0.0.1:`port`; `stop()` and `start()` again keep the port.

    Args:
        folder: its config, persistence file and log.
        certificate: serve TLS (``mqtts``) with this certificate instead of plain MQTT.
        user: ``(name, password)``: refuse anonymous clients, accept this one.
    """

    def __init__(self, folder: Path, *, certificate: Certificate | None = None,
                 user: tuple[str, str] | None = None) -> None:
        self.folder = folder
        self.port = free_port()
        self.tls = certificate is not None
        folder.mkdir(parents=True, exist_ok=True)
        lines = [f"listener {self.port} 127.0.0.1",
                 # mosquitto started as root drops to the `mosquitto` user unless told not to
                 f"user {getpass.getuser()}",
                 "persistence true", f"persistence_location {folder}/",
                 f"log_dest file {folder}/mosquitto.log", "log_type all"]
        if certificate is not None:
            lines += [f"certfile {certificate.cert}", f"keyfile {certificate.key}"]
        if user is None:
            lines.append("allow_anonymous true")
        else:
            passwords = folder / "passwords"
            subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), *user],
                           check=True, capture_output=True, timeout=30)
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        self.config = folder / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")
        self._proc: subprocess.Popen[bytes] | None = None

    def url(self, credentials: str = "") -> str:
        """``mqtt://[credentials@]127.0.0.1:<port>`` (``mqtts`` for a TLS broker)."""
        scheme = "mqtts" if self.tls else "mqtt"
        at = f"{credentials}@" if credentials else ""
        return f"{scheme}://{at}127.0.0.1:{self.port}"

    def start(self) -> None:
        self._proc = subprocess.Popen([MOSQUITTO, "-c", str(self.config)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for(lambda: _accepts(self.port) or self._exited(), timeout=20,
                 what=f"mosquitto listening on {self.port}")
        if self._exited():
            raise RuntimeError(f"mosquitto did not start: {self.log()[-2000:]}")

    def stop(self) -> None:
        """SIGTERM (mosquitto saves its persistence file) and wait for the port to close."""
        if self._proc is None:
            return
        self._proc.send_signal(signal.SIGTERM)
        self._proc.wait(timeout=20)
        self._proc = None
        wait_for(lambda: not _accepts(self.port), timeout=10, what="mosquitto stopped")

    def _exited(self) -> bool:
        return self._proc is not None and self._proc.poll() is not None

    def log(self) -> str:
        path = self.folder / "mosquitto.log"
        return path.read_text(errors="replace") if path.is_file() else ""

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    retain: bool
    at: float  # time.monotonic() when the subscriber got it

    @property
    def text(self) -> str:
        return self.payload.decode()


class Subscriber:
    """Records every message on `topics` (QoS 1); a persistent session (clean_session off)
    gets what was published while it was away, across a broker restart."""

    def __init__(self, broker: Mosquitto, topics: list[str], *,
                 credentials: tuple[str, str] | None = None,
                 certificate: Certificate | None = None) -> None:
        self._probe = f"iris-test/probe/{uuid.uuid4().hex}"
        self._topics = [*topics, self._probe]
        self._lock = threading.Lock()
        self._messages: list[Message] = []
        self._connected = threading.Event()
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:10]}",
                             clean_session=False)
        if credentials is not None:
            client.username_pw_set(*credentials)
        if certificate is not None:
            client.tls_set(ca_certs=str(certificate.cert))
        client.reconnect_delay_set(0.1, 0.5)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = lambda *_: self._connected.clear()
        client.on_message = self._on_message
        self._client = client
        self._broker = broker

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object,
                    reason_code: object, properties: object) -> None:
        client.subscribe([(topic, 1) for topic in self._topics])

    def _on_subscribe(self, *_args: object) -> None:
        self._connected.set()  # subscribed: from now on nothing published is missed

    def _on_message(self, client: mqtt.Client, userdata: object,
                    message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self._messages.append(Message(message.topic, bytes(message.payload),
                                          bool(message.retain), time.monotonic()))

    def messages(self, topic: str | None = None) -> list[Message]:
        with self._lock:
            return [m for m in self._messages
                    if (topic is None and m.topic != self._probe) or m.topic == topic]

    def sync(self) -> None:
        """Wait until everything the broker had for us so far arrived: the retained
        messages of our subscriptions come before a message we publish after subscribing."""
        token = uuid.uuid4().hex.encode()
        self._client.publish(self._probe, token, qos=1)
        wait_for(lambda: any(m.payload == token for m in self.messages(self._probe)),
                 timeout=20, interval=0.02, what="probe round trip")

    def last(self, topic: str) -> Message | None:
        found = self.messages(topic)
        return found[-1] if found else None

    def wait_last(self, topic: str, text: str, timeout: float = 30.0) -> Message:
        """Wait until the latest message on `topic` reads `text`."""
        def matches() -> Message | None:
            message = self.last(topic)
            return message if message is not None and message.text == text else None

        return wait_for(matches, timeout=timeout, interval=0.02,
                        what=f"{topic} = {text!r}")

    def __enter__(self) -> Subscriber:
        self._client.connect_async("127.0.0.1", self._broker.port, keepalive=10)
        self._client.loop_start()
        wait_for(self._connected.is_set, timeout=20, interval=0.02, what="subscriber subscribed")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._client.disconnect()
        self._client.loop_stop()
