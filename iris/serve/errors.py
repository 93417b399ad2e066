"""What a route answers when a service behind the API is down, as messages and exceptions.

Light on purpose (no Ray, no DB): the HTTP proxy's live relay raises these too.
"""

from __future__ import annotations

HLS_NOT_RUNNING = "HLS unavailable: the Ray runtime is not running."
HLS_NOT_RESPONDING = "HLS unavailable: the session manager is not responding."
FACES_NOT_RUNNING = "Face recognizer unavailable: the Embedder is not running."
RECORD_FAILED = ("Recording could not be saved: the camera did not answer in time or failed; "
                 "retry the stop with the same started_at.")
IDENTITY_RESTARTED = "The identity layer restarted mid-operation; retry."
CAMERA_NOT_RUNNING = "Camera is not running (disabled?)."
RETRY_AFTER_S = "5"


class ServiceUnavailable(Exception):
    """A service behind the API did not answer (down, restarting, timed out): a 503.

    Args:
        detail: what the client reads (never a traceback or a secret).
        retry_after: seconds for a `Retry-After` header, when a retry soon makes sense.
    """

    def __init__(self, detail: str, retry_after: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class CameraNotRunning(Exception):
    """The camera has no worker (disabled, or not started yet): a 409."""

    def __init__(self, camera_id: int) -> None:
        super().__init__(CAMERA_NOT_RUNNING)
        self.camera_id = camera_id
        self.detail = CAMERA_NOT_RUNNING
