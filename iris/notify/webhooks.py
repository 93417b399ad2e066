"""Signed webhook deliveries to one target, off the caller's thread, retried with backoff.

Each target has its own thread and bounded queue (the oldest delivery is dropped, and counted,
when it is full). A delivery is one POST of the event-change JSON with
``X-Iris-Signature: sha256=<hmac>`` (when the target has a secret), ``X-Iris-Delivery`` (the
same id on every try, so receivers can drop duplicates) and ``X-Iris-Event``. Right before
each try the host is resolved and every address checked (`iris.notify.policy`), and the
request goes to the checked address (Host header and TLS name stay the host's), so a DNS
answer that changes in between cannot redirect it. Redirects are not followed.

Connection errors, 408, 429 and 5xx answers are retried (`NotifyPolicy.webhook_attempts`
tries, backoff doubling from `webhook_backoff_s` to `webhook_backoff_max_s`, or the
receiver's ``Retry-After`` within that bound); any other answer, and a refused address, ends
the delivery at once.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx

from iris import __version__
from iris.notify.policy import (
    NotifyPolicy,
    Resolver,
    WebhookRefused,
    WebhookUnresolved,
    WebhookUrl,
    parse_webhook_url,
    resolve_target,
)
from iris.notify.signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, sign
from iris.redact import redact_text
from iris.settings import EventChange, WebhookTarget

log = logging.getLogger("iris.notify")

RETRY_STATUSES = frozenset({408, 425, 429})
MAX_ERROR_LENGTH = 300


@dataclass(frozen=True)
class Delivery:
    """One event change for one target: the exact body, and the id every try carries."""

    change: EventChange
    body: bytes = field(repr=False)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


class WebhookSender:
    """Delivers event changes to one webhook target; see the module notes."""

    def __init__(self, target: WebhookTarget, policy: NotifyPolicy, *, queue_size: int,
                 resolve: Resolver | None = None) -> None:
        self.webhook: WebhookUrl = parse_webhook_url(target.url)
        self.changes = frozenset(target.events)
        self._secret = target.secret
        self._policy = policy
        self._resolve = resolve
        self._queue_size = queue_size
        self._queue: deque[Delivery] = deque()
        self._cond = threading.Condition()
        self._closed = threading.Event()
        self._busy = False
        self.delivered = 0
        self.failed = 0
        self.retries = 0
        self.dropped = 0
        self.refused = 0
        self.last_status: int | None = None
        self.last_error: str | None = None
        self.last_delivered_at: float | None = None
        self._http = httpx.Client(
            timeout=policy.webhook_timeout_s, follow_redirects=False, trust_env=False,
            verify=policy.ssl_context() if self.webhook.scheme == "https" else True,
            headers={"User-Agent": f"iris/{__version__}"})
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"webhook {self.webhook.origin}")

    # ------------------------------------------------------------------ callers
    def start(self) -> None:
        """Start delivering (the thread)."""
        self._thread.start()

    def wants(self, change: EventChange) -> bool:
        """Whether this target subscribed to `change` (its `events` list)."""
        return change in self.changes

    def submit(self, change: EventChange, body: bytes) -> None:
        """Queue one delivery and return at once."""
        with self._cond:
            if len(self._queue) >= self._queue_size:
                self._queue.popleft()
                self.dropped += 1
            self._queue.append(Delivery(change, body))
            self._cond.notify()

    def close(self, timeout: float = 5.0) -> None:
        """Stop after the try under way (pending deliveries are abandoned)."""
        self._closed.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._http.close()

    def stats(self) -> dict[str, Any]:
        """Counters and the last error, with the target shown as its origin only."""
        with self._cond:
            return {
                "target": self.webhook.origin,
                "events": sorted(self.changes),
                "delivered": self.delivered,
                "failed": self.failed,
                "retries": self.retries,
                "dropped": self.dropped,
                "refused": self.refused,
                "pending": len(self._queue) + int(self._busy),
                "last_status": self.last_status,
                "last_error": self.last_error,
                "last_delivered_at": self.last_delivered_at,
            }

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed.is_set():
                    self._cond.wait()
                if self._closed.is_set():
                    return
                delivery = self._queue.popleft()
                self._busy = True
            try:
                self._deliver(delivery)
            except Exception as exc:  # noqa: BLE001 - one bad delivery must not end the thread
                self._fail(f"unexpected error: {exc}")
            finally:
                with self._cond:
                    self._busy = False

    def _deliver(self, delivery: Delivery) -> None:
        attempts = max(1, self._policy.webhook_attempts)
        for attempt in range(1, attempts + 1):
            retry_after = self._try(delivery)
            if retry_after is None:
                return
            if attempt == attempts:
                break
            with self._cond:
                self.retries += 1
            if self._closed.wait(self._backoff(attempt, retry_after)):
                return
        with self._cond:
            last = self.last_error
        self._fail(f"gave up after {attempts} tries: {last}")

    def _try(self, delivery: Delivery) -> float | None:
        """One POST; None when the delivery is over (done or hopeless), else the receiver's
        Retry-After in seconds (0 when it named none)."""
        try:
            address = resolve_target(self.webhook, self._policy, self._resolve)
        except WebhookUnresolved as exc:
            self._note(error=str(exc))
            return 0.0
        except WebhookRefused as exc:
            with self._cond:
                self.refused += 1
            self._fail(str(exc))
            return None
        headers = {"Host": self.webhook.host_header, "Content-Type": "application/json",
                   DELIVERY_HEADER: delivery.id, EVENT_HEADER: delivery.change}
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(delivery.body, self._secret)
        auth = self.webhook.auth_header()
        if auth is not None:
            headers["Authorization"] = auth
        extensions = {"sni_hostname": self.webhook.host} if self.webhook.scheme == "https" else {}
        try:
            answer = self._http.post(self.webhook.url_for(address), content=delivery.body,
                                     headers=headers, extensions=extensions)
        except httpx.HTTPError as exc:
            self._note(error=f"{type(exc).__name__}: {exc}")
            return 0.0
        status = answer.status_code
        if 200 <= status < 300:
            with self._cond:
                self.delivered += 1
                self.last_status, self.last_error = status, None
                self.last_delivered_at = time.time()
            return None
        self._note(status=status, error=f"the receiver answered {status}")
        if status >= 500 or status in RETRY_STATUSES:
            return _retry_after(answer.headers.get("Retry-After"))
        why = "redirects are not followed" if 300 <= status < 400 else "not retried"
        self._fail(f"the receiver answered {status} ({why})")
        return None

    def _backoff(self, attempt: int, retry_after: float) -> float:
        policy = self._policy
        delay = policy.webhook_backoff_s * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)
        return min(max(delay, retry_after), policy.webhook_backoff_max_s)

    def _note(self, *, error: str, status: int | None = None) -> None:
        with self._cond:
            self.last_error = self._redact(error)
            if status is not None:
                self.last_status = status

    def _fail(self, error: str) -> None:
        message = self._redact(error)
        with self._cond:
            self.failed += 1
            self.last_error = message
        log.warning("webhook %s: delivery failed: %s", self.webhook.origin, message)

    def _redact(self, text: str) -> str:
        """No path (often the secret), user info or credential parameter in an error text."""
        if self.webhook.target != "/":
            text = text.replace(self.webhook.target, "/…")
        text = redact_text(text, [self.webhook.url])
        if self._secret:
            text = text.replace(self._secret, "***")
        return text[:MAX_ERROR_LENGTH]


def _retry_after(value: str | None) -> float:
    """Seconds from a ``Retry-After: <seconds>`` header (an HTTP date counts as none)."""
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0
