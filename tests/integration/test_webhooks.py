"""Webhooks against a real local HTTP receiver: signatures, retries, refused targets, TLS.

No Ray: `WebhookSender` and `Notifier` are plain code. The receiver listens on 127.0.0.1, so
these senders use the tests' `NotifyPolicy(allow_loopback=True)`; no setting can do that.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from iris.notify import Notifier, NotifyConfigError, NotifyPolicy, verify
from iris.notify.signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER
from iris.notify.webhooks import WebhookSender
from iris.settings import WebhookTarget, load_settings
from tests.support.tls import self_signed
from tests.support.wait import wait_for
from tests.support.webhook_receiver import WebhookReceiver

SECRET = "webhook-secret-0123456789"
EVENT = {"id": 7, "camera_id": 3, "label": "person", "in_progress": True}
FAST = NotifyPolicy(allow_loopback=True, webhook_attempts=4, webhook_backoff_s=0.01,
                    webhook_backoff_max_s=0.05, webhook_timeout_s=5)


Receiver = WebhookReceiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def _sender(url: str, policy: NotifyPolicy = FAST, *, events: list[str] | None = None,
            secret: str | None = SECRET, queue_size: int = 100, resolve=None) -> WebhookSender:
    target = WebhookTarget(url=url, secret=secret,
                           **({"events": events} if events is not None else {}))
    sender = WebhookSender(target, policy, queue_size=queue_size, resolve=resolve)
    sender.start()
    return sender


def _body(change: str = "new") -> bytes:
    return json.dumps({"type": change, "before": None, "after": EVENT}).encode()


def test_deliveries_are_signed_and_carry_an_id(receiver: Receiver) -> None:
    sender = _sender(receiver.url())
    try:
        sender.submit("new", _body())
        wait_for(lambda: sender.stats()["delivered"] == 1, timeout=20, what="delivered")
    finally:
        sender.close()
    [request] = receiver.requests
    assert request.path == "/api/webhook/secret-id-42"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers[EVENT_HEADER] == "new"
    assert len(request.headers[DELIVERY_HEADER]) == 32
    assert verify(request.body, SECRET, request.headers[SIGNATURE_HEADER])
    assert not verify(request.body, "another-secret", request.headers[SIGNATURE_HEADER])
    assert json.loads(request.body)["after"] == EVENT


def test_a_500_is_retried_with_the_same_delivery_id(receiver: Receiver) -> None:
    receiver.answers = [500, 503]
    sender = _sender(receiver.url())
    try:
        sender.submit("end", _body("end"))
        wait_for(lambda: sender.stats()["delivered"] == 1, timeout=20, what="delivered")
        stats = sender.stats()
    finally:
        sender.close()
    assert len(receiver.requests) == 3
    assert len({r.headers[DELIVERY_HEADER] for r in receiver.requests}) == 1
    assert all(verify(r.body, SECRET, r.headers[SIGNATURE_HEADER]) for r in receiver.requests)
    assert (stats["retries"], stats["failed"], stats["last_status"]) == (2, 0, 200)


def test_giving_up_is_counted_and_the_error_hides_the_path(receiver: Receiver) -> None:
    receiver.answers = [500] * 10
    sender = _sender(receiver.url())
    try:
        sender.submit("new", _body())
        wait_for(lambda: sender.stats()["failed"] == 1, timeout=20, what="given up")
        stats = sender.stats()
    finally:
        sender.close()
    assert len(receiver.requests) == FAST.webhook_attempts
    assert stats["retries"] == FAST.webhook_attempts - 1
    assert stats["last_status"] == 500 and "gave up after 4 tries" in stats["last_error"]
    assert "secret-id-42" not in json.dumps(stats)
    assert stats["target"] == f"http://127.0.0.1:{receiver.port}"


def test_a_client_error_is_not_retried(receiver: Receiver) -> None:
    receiver.answers = [404]
    sender = _sender(receiver.url())
    try:
        sender.submit("new", _body())
        wait_for(lambda: sender.stats()["failed"] == 1, timeout=20, what="failed")
    finally:
        sender.close()
    assert len(receiver.requests) == 1
    assert "404" in sender.stats()["last_error"]


def test_an_unreachable_receiver_is_retried_then_reported() -> None:
    gone = Receiver()
    url = gone.url()
    gone.close()  # nothing listens on its port now
    sender = _sender(url)
    try:
        sender.submit("new", _body())
        wait_for(lambda: sender.stats()["failed"] == 1, timeout=30, what="given up")
        stats = sender.stats()
    finally:
        sender.close()
    assert stats["retries"] == FAST.webhook_attempts - 1
    assert "ConnectError" in stats["last_error"] and "secret-id-42" not in stats["last_error"]


def test_only_the_changes_a_target_asked_for(receiver: Receiver) -> None:
    settings = load_settings(webhooks=[WebhookTarget(url=receiver.url("/ends"), events=["end"]),
                                       WebhookTarget(url=receiver.url("/all"))])
    notifier = Notifier.from_settings(settings, FAST)
    notifier.start()
    try:
        notifier.event_changed("new", None, EVENT)
        notifier.event_changed("end", EVENT, {**EVENT, "in_progress": False})
        wait_for(lambda: len(receiver.requests) == 3, timeout=20, what="three deliveries")
    finally:
        notifier.close()
    paths = sorted((r.path, json.loads(r.body)["type"]) for r in receiver.requests)
    assert paths == [("/all", "end"), ("/all", "new"), ("/ends", "end")]
    assert all(SIGNATURE_HEADER not in r.headers for r in receiver.requests)  # no secret


def test_a_full_queue_drops_the_oldest(receiver: Receiver) -> None:
    receiver.hold.set()
    sender = _sender(receiver.url(), queue_size=3)
    try:
        sender.submit("new", _body("new"))
        wait_for(lambda: receiver.requests, timeout=20, what="first request held")
        for index in range(5):
            sender.submit("update", json.dumps({"n": index}).encode())
        assert sender.stats()["dropped"] == 2
        receiver.release()
        wait_for(lambda: sender.stats()["delivered"] == 4, timeout=20, what="the rest")
    finally:
        sender.close()
    assert [json.loads(r.body).get("n") for r in receiver.requests[1:]] == [2, 3, 4]


def test_forbidden_addresses_are_never_contacted(receiver: Receiver) -> None:
    """Names that resolve to metadata or link-local addresses, alone or beside an allowed
    one, are refused before any connection: the receiver (on the allowed address) sees none."""
    def resolve(host: str, port: int) -> list[str]:
        return {"meta.example": ["169.254.169.254"], "ll.example": ["169.254.7.7"],
                "mixed.example": ["127.0.0.1", "169.254.169.254"]}[host]

    senders = [_sender(receiver.url(host=host), resolve=resolve)
               for host in ("meta.example", "ll.example", "mixed.example")]
    try:
        for sender in senders:
            sender.submit("new", _body())
        for sender in senders:
            wait_for(lambda s=sender: s.stats()["refused"] == 1, timeout=20, what="refused")
    finally:
        for sender in senders:
            sender.close()
    assert receiver.requests == []
    assert [s.stats()["delivered"] for s in senders] == [0, 0, 0]
    assert "metadata" in senders[0].stats()["last_error"]
    assert "link-local" in senders[1].stats()["last_error"]


def test_a_name_rebound_to_metadata_after_start_up_is_refused(receiver: Receiver) -> None:
    answers = [["127.0.0.1"], ["169.254.169.254"]]
    sender = _sender(receiver.url(host="hooks.example"),
                     resolve=lambda host, port: answers.pop(0) if len(answers) > 1 else answers[0])
    try:
        sender.submit("new", _body())
        wait_for(lambda: sender.stats()["delivered"] == 1, timeout=20, what="first delivery")
        sender.submit("end", _body("end"))
        wait_for(lambda: sender.stats()["refused"] == 1, timeout=20, what="second refused")
    finally:
        sender.close()
    assert len(receiver.requests) == 1
    assert receiver.requests[0].headers["Host"] == f"hooks.example:{receiver.port}"


def test_loopback_is_refused_with_the_users_policy(receiver: Receiver) -> None:
    settings = load_settings(webhooks=[WebhookTarget(url=receiver.url())])
    with pytest.raises(NotifyConfigError, match="loopback"):
        Notifier.from_settings(settings)  # a literal loopback address: refused at start-up
    sender = _sender(receiver.url(host="localhost"), NotifyPolicy(webhook_attempts=1))
    try:
        sender.submit("new", _body())
        wait_for(lambda: sender.stats()["refused"] == 1, timeout=20, what="refused")
    finally:
        sender.close()
    assert receiver.requests == []


def test_https_is_verified_against_the_host_name(tmp_path: Path) -> None:
    certificate = self_signed(tmp_path / "tls")
    server = Receiver(certificate=certificate)
    url = server.url(host="localhost", scheme="https")
    trusted = NotifyPolicy(allow_loopback=True, ca_file=certificate.cert, webhook_attempts=1)
    untrusted = NotifyPolicy(allow_loopback=True, webhook_attempts=1)
    unverified = NotifyPolicy(allow_loopback=True, tls_verify=False, webhook_attempts=1)
    senders = [_sender(url, policy, resolve=lambda h, p: ["127.0.0.1"])
               for policy in (trusted, untrusted, unverified)]
    # The certificate names localhost and 127.0.0.1: connecting to 127.0.0.1 for another
    # name must still fail, so the name checked is the URL's host, not the address.
    senders.append(_sender(server.url(host="hooks.example", scheme="https"), trusted,
                           resolve=lambda h, p: ["127.0.0.1"]))
    try:
        for sender in senders:
            sender.submit("new", _body())
        for sender in senders:
            wait_for(lambda s=sender: s.stats()["delivered"] + s.stats()["failed"] == 1,
                     timeout=20, what="one outcome")
    finally:
        for sender in senders:
            sender.close()
        server.close()
    assert [s.stats()["delivered"] for s in senders] == [1, 0, 1, 0]
    assert "CERTIFICATE_VERIFY_FAILED" in senders[1].stats()["last_error"]
    assert "hooks.example" in senders[3].stats()["last_error"]
    assert len(server.requests) == 2
