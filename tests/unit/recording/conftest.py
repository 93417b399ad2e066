"""Media every recording test uses, made once per module (real H.264 + AAC files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session

from iris.db.engine import make_engine
from iris.db.tables import Camera
from iris.layout import Layout
from iris.recording.index import add_segment
from iris.recording.segment import Segment, segment_name
from iris.recording.writer import SegmentWriter
from tests.support.media import make_clip
from tests.unit.recording.support import record


@pytest.fixture(scope="module")
def clip8(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 s, 25 fps, GOP 1 s, H.264 + AAC."""
    return make_clip(tmp_path_factory.mktemp("media") / "clip8.mp4", seconds=8, size=(640, 360))


class Store:
    """A data root, its SQLite database and one camera: the recording store of a test."""

    def __init__(self, tmp_path: Path, **camera: object) -> None:
        self.root = tmp_path / "data"
        self.root.mkdir()
        self.layout = Layout(self.root)
        self.engine = make_engine(f"sqlite:///{tmp_path / 'iris.db'}")
        self.camera_id = self.add_camera(**camera)

    def add_camera(self, **fields: object) -> int:
        with Session(self.engine) as session:
            camera = Camera.model_validate({"name": "cam", "rtsp_url": "rtsp://h/s", **fields})
            session.add(camera)
            session.commit()
            assert camera.id is not None
            return camera.id

    def index(self, segments: list[Segment], camera_id: int | None = None) -> None:
        """Index finished segment files (as the camera's index thread does)."""
        with Session(self.engine) as session:
            for segment in segments:
                assert add_segment(session, layout=self.layout,
                                   camera_id=camera_id or self.camera_id, segment=segment)

    def fake_segment(self, session: Session, start: float, end: float, size: int = 100,
                     camera_id: int | None = None) -> Path:
        """A segment file of `size` bytes (not media: retention and queries never read it)."""
        folder = self.layout.segments(camera_id or self.camera_id)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / segment_name(start, end)
        path.write_bytes(b"\0" * size)
        span = Segment.from_path(path)
        assert span is not None
        assert add_segment(session, layout=self.layout, camera_id=camera_id or self.camera_id,
                           segment=Segment(span.start, span.end, path, bytes=size))
        return path

    def record(self, source: Path, wall0: float, camera_id: int | None = None,
               segment_seconds: float = 2.0) -> list[Segment]:
        """Record a media file into the camera's folder as if live from `wall0`, and index it."""
        done: list[Segment] = []
        folder = self.layout.segments(camera_id or self.camera_id)
        writer = SegmentWriter(folder, segment_seconds, on_segment=done.append)
        record(source, folder, wall0, writer=writer).close()
        self.index(done, camera_id)
        return done


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path)
