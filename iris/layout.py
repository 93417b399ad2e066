"""The data root's layout in one map: every writer and reader of media asks here (no Ray).

```
<root>/
  segments/<camera>/<start_ms>-<end_ms>.mp4   the recording store (indexed in the DB)
  clips/<camera>/cache/…                      clips cut from it on demand (rebuildable)
  clips/<camera>/event-<id>.mp4               clips of events recorded before the store
  thumbs/<camera>/event-<id>.jpg              event thumbnails
  identities/<identity>/…                     sighting and face crops of an identity
  faces/<person>/…                            enrollment photos of a person
  hls/<camera>/                               live-with-sound sessions (ephemeral)
  frames/<camera>/                            per-camera frame slot (ephemeral)
  models/                                     detector and face weights
  demo/                                       the demo clip (default local sources folder)
  iris.db, api_key, gateway_secret, iris.pid  the SQLite database, the secrets, the pid
```

`RECORDINGS` names the folders retention may count and delete; nothing else under the root is
ever deleted by retention (models, the database, enrollment photos, identity crops).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SEGMENTS = "segments"
CLIPS = "clips"
CLIP_CACHE = "cache"
THUMBS = "thumbs"
IDENTITIES = "identities"
FACES = "faces"
HLS = "hls"
FRAMES = "frames"
MODELS = "models"
DEMO = "demo"
DATABASE = "iris.db"
API_KEY = "api_key"
GATEWAY_SECRET = "gateway_secret"
PID = "iris.pid"

RECORDINGS: tuple[str, ...] = (SEGMENTS, CLIPS, THUMBS)
"""Top-level folders that hold recordings: what the storage cap counts and retention deletes."""
CAMERA_FOLDERS: tuple[str, ...] = (SEGMENTS, CLIPS, THUMBS, HLS, FRAMES)
"""Per-camera folders, removed with the camera."""


def identity_file(identity_id: int, name: str) -> str:
    """The stored (root-relative) path of a file in an identity's crop folder."""
    return f"{IDENTITIES}/{identity_id}/{name}"


def pack_dir(root: Path | str, pack: str = "buffalo_l") -> Path:
    """Where a face model pack's ONNX files live: ``<root>/models/<pack>``."""
    return Path(root).expanduser() / MODELS / pack


@dataclass(frozen=True)
class Layout:
    """Paths under one data root. Relative forms (what the DB stores) come from `relative`."""

    root: Path

    def segments(self, camera_id: int) -> Path:
        """Recorded segments of one camera."""
        return self.root / SEGMENTS / str(camera_id)

    def clips(self, camera_id: int) -> Path:
        """Clips of one camera (pre-store event clips; the cache below)."""
        return self.root / CLIPS / str(camera_id)

    def clip_cache(self, camera_id: int) -> Path:
        """Clips cut on demand from the camera's segments: rebuildable, evicted by age."""
        return self.clips(camera_id) / CLIP_CACHE

    def clip_caches(self) -> list[Path]:
        """Every camera's clip cache folder."""
        return sorted((self.root / CLIPS).glob(f"*/{CLIP_CACHE}"))

    def thumbs(self, camera_id: int) -> Path:
        """Event thumbnails of one camera."""
        return self.root / THUMBS / str(camera_id)

    def hls(self, camera_id: int | None = None) -> Path:
        """Live HLS sessions (all, or one camera's)."""
        base = self.root / HLS
        return base if camera_id is None else base / str(camera_id)

    def frames(self, camera_id: int) -> Path:
        return self.root / FRAMES / str(camera_id)

    def identity(self, identity_id: int) -> Path:
        """Sighting thumbnails and face crops of one identity."""
        return self.root / IDENTITIES / str(identity_id)

    def faces(self, person_id: int) -> Path:
        """Enrollment photos of one person."""
        return self.root / FACES / str(person_id)

    @property
    def models(self) -> Path:
        return self.root / MODELS

    @property
    def demo(self) -> Path:
        return self.root / DEMO

    @property
    def database(self) -> Path:
        return self.root / DATABASE

    @property
    def pid_file(self) -> Path:
        """Where `iris up` keeps its process id (for `iris down`, `doctor`)."""
        return self.root / PID

    def secret(self, name: str) -> Path:
        """A secret kept in the root (`API_KEY`, `GATEWAY_SECRET`)."""
        return self.root / name

    def camera_folders(self, camera_id: int) -> list[Path]:
        """Every per-camera folder (segments, clips, thumbs, hls, frames)."""
        return [self.root / kind / str(camera_id) for kind in CAMERA_FOLDERS]

    def recordings(self) -> list[Path]:
        """The top-level recording folders (what retention counts and deletes)."""
        return [self.root / kind for kind in RECORDINGS]

    def relative(self, path: Path) -> str:
        """The form stored in the DB: `path` relative to the root (posix separators)."""
        return path.resolve().relative_to(self.root.resolve()).as_posix()
