"""What the SPA learns about a camera's live MP4 stream before opening it."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MseInfo(BaseModel):
    """The stream's codecs (for `MediaSource.isTypeSupported`), size, sound and URL."""

    camera_id: int
    mime: str = Field(description='e.g. video/mp4; codecs="avc1.64001f,mp4a.40.2"')
    codecs: str = Field(description="RFC 6381 codecs string of every track")
    width: int
    height: int
    audio: bool = Field(description="Whether the stream carries sound")
    stream: str = Field(description="The stream's URL (GET, video/mp4)")
    detections: str = Field(description="The overlay boxes' event stream (text/event-stream)")
