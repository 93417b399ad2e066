"""Caps on what callers may hold open in this ingress: live streams and HLS sessions (no Ray).

Each cap counts per principal (`principal_key`) besides in all, so one client cannot take every
stream. Refusals say which cap was hit and when to retry: 503 when the server is full, 429 when
this caller holds its share. Counts are per ingress replica (the app runs one).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi import HTTPException, status

if TYPE_CHECKING:
    from iris.serve.auth import Principal


LIVE_RETRY_AFTER_S = 5


def principal_key(principal: Principal) -> str:
    """Who a cap counts against: the SSO email, else the name, else how they authenticated."""
    return principal.email or principal.name or principal.via


class LimitReached(HTTPException):
    """A refusal with the status, the reason and a Retry-After."""

    def __init__(self, status_code: int, detail: str, retry_after_s: float) -> None:
        super().__init__(status_code, detail,
                         headers={"Retry-After": str(max(1, round(retry_after_s)))})


class StreamSlot:
    """One open live stream; `release` (idempotent) gives the slot back."""

    def __init__(self, owner: StreamSlots, principal: str) -> None:
        self._owner = owner
        self.principal = principal
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._owner._release(self.principal)


class StreamSlots:
    """Open live streams within `total` in all and `per_principal` for each caller."""

    def __init__(self, total: int, per_principal: int) -> None:
        self.total = total
        self.per_principal = per_principal
        self._held: Counter[str] = Counter()
        self._lock = threading.Lock()  # released from finalizers too, not only the loop

    @property
    def open(self) -> int:
        return sum(self._held.values())

    def held(self, principal: str) -> int:
        return self._held[principal]

    def acquire(self, principal: str) -> StreamSlot:
        """A slot for `principal`, or `LimitReached` (503 all in use, 429 their share)."""
        with self._lock:
            if self.open >= self.total:
                raise LimitReached(
                    status.HTTP_503_SERVICE_UNAVAILABLE,
                    f"All {self.total} live streams of this server are in use "
                    "(live_max_viewers); retry shortly.", LIVE_RETRY_AFTER_S)
            if self._held[principal] >= self.per_principal:
                raise LimitReached(
                    status.HTTP_429_TOO_MANY_REQUESTS,
                    f"You have {self.per_principal} live streams open, the most one user may "
                    "hold (live_max_viewers_per_principal): close one and retry.",
                    LIVE_RETRY_AFTER_S)
            self._held[principal] += 1
        return StreamSlot(self, principal)

    def _release(self, principal: str) -> None:
        with self._lock:
            self._held[principal] -= 1
            if self._held[principal] <= 0:
                del self._held[principal]


class PrincipalSessions:
    """HLS sessions each caller keeps alive: cameras whose playlist it asked for lately.

    A player asks for the playlist every segment or so; a claim lapses `idle_s` after the last
    ask (the session manager stops an unwatched session after the same time), or at close.
    """

    def __init__(self, per_principal: int, idle_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_principal = per_principal
        self.idle_s = idle_s
        self._clock = clock
        self._seen: dict[str, dict[int, float]] = {}

    def watching(self, principal: str) -> set[int]:
        """Cameras `principal` holds a session of now."""
        return set(self._live(principal))

    def claim(self, principal: str, camera_id: int) -> bool:
        """Note a playlist request; True when the camera is new for this caller.

        Raises `LimitReached` (429) when it is new and the caller holds its share already.
        """
        live = self._live(principal)
        new = camera_id not in live
        if new and len(live) >= self.per_principal:
            oldest = min(live.values())
            raise LimitReached(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"You are watching {len(live)} live streams with sound, the most one user may "
                "(hls_max_sessions_per_principal): close one first.",
                oldest + self.idle_s - self._clock())
        self._seen.setdefault(principal, live)[camera_id] = self._clock()
        return new

    def would_exceed(self, principal: str, camera_id: int) -> bool:
        """True when claiming `camera_id` now would be refused (before `keep_only`)."""
        live = self._live(principal)
        return camera_id not in live and len(live) >= self.per_principal

    def keep_only(self, principal: str, cameras: set[int]) -> None:
        """Forget claims on sessions that no longer run (closed by a camera delete, reaped)."""
        live = {camera: seen for camera, seen in self._live(principal).items()
                if camera in cameras}
        if live:
            self._seen[principal] = live
        else:
            self._seen.pop(principal, None)

    def release(self, principal: str, camera_id: int) -> None:
        """The caller closed the camera's session (or starting it failed)."""
        live = self._seen.get(principal, {})
        live.pop(camera_id, None)
        if not live:
            self._seen.pop(principal, None)

    def _live(self, principal: str) -> dict[int, float]:
        cutoff = self._clock() - self.idle_s
        live = {camera: seen for camera, seen in self._seen.get(principal, {}).items()
                if seen > cutoff}
        if live:
            self._seen[principal] = live
        else:  # forget callers who hold nothing: the map stays as small as what is watched
            self._seen.pop(principal, None)
        return live
