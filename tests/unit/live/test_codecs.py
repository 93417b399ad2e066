"""MP4 boxes as the live stream cuts them, and the codecs strings browsers are told."""

from __future__ import annotations

import struct
from pathlib import Path

import av
import pytest

from iris.live.boxes import BoxSplitter, iter_boxes, starts_with_sync_sample
from iris.live.codecs import UnknownCodec, avc_codec, codecs_string, hevc_codec, mp4a_codec
from tests.support.media import make_clip


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


@pytest.mark.parametrize(("record", "expected"), [
    (bytes([1, 0x64, 0x00, 0x1F, 0xFF]), "avc1.64001f"),  # High@3.1
    (bytes([1, 0x42, 0xC0, 0x16, 0xFF]), "avc1.42c016"),  # Constrained Baseline@2.2
    (bytes([1, 0x4D, 0x40, 0x28, 0xFF]), "avc1.4d4028"),  # Main@4.0
])
def test_avc_codecs_string_is_profile_constraints_level(record: bytes, expected: str) -> None:
    assert avc_codec(b"avc1", record) == expected


@pytest.mark.parametrize(("record", "expected"), [
    # Main, compat flags 0x60000000, no constraints beyond progressive/frame-only, level 3.1
    (bytes([1, 0x01, 0x60, 0, 0, 0, 0xB0, 0, 0, 0, 0, 0, 93]), "hvc1.1.6.L93.B0"),
    # Main 10, high tier, level 5.1
    (bytes([1, 0x22, 0x20, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 153]), "hvc1.2.4.H153.90"),
])
def test_hevc_codecs_string_follows_14496_15(record: bytes, expected: str) -> None:
    assert hevc_codec(b"hvc1", record) == expected


def esds(oti: int, config: bytes) -> bytes:
    specific = bytes([0x05, len(config)]) + config
    decoder = bytes([0x04, 13 + len(specific), oti, 0x15]) + bytes(11) + specific
    es = bytes([0x03, 3 + len(decoder), 0, 1, 0]) + decoder
    return bytes(4) + es


@pytest.mark.parametrize(("oti", "config", "expected"), [
    (0x40, bytes([0x12, 0x10]), "mp4a.40.2"),   # AAC-LC
    (0x40, bytes([0x2B, 0x92]), "mp4a.40.5"),   # HE-AAC (SBR)
    (0x6B, b"", "mp4a.6B"),                     # MP3
])
def test_mp4a_codecs_string_names_the_object_type(oti: int, config: bytes,
                                                   expected: str) -> None:
    assert mp4a_codec(esds(oti, config)) == expected


def test_truncated_records_are_refused() -> None:
    with pytest.raises(UnknownCodec):
        avc_codec(b"avc1", b"\x01")
    with pytest.raises(UnknownCodec):
        hevc_codec(b"hvc1", bytes(5))


def test_the_splitter_hands_back_whole_boxes_whatever_the_pieces() -> None:
    stream = box(b"ftyp", b"isom") + box(b"moov", bytes(300)) + box(b"moof", bytes(40)) \
        + box(b"mdat", bytes(5000))
    splitter = BoxSplitter()
    got: list[tuple[bytes, bytes]] = []
    for start in range(0, len(stream), 777):
        splitter.write(stream[start:start + 777])
        got += splitter.boxes()
    assert [kind for kind, _ in got] == [b"ftyp", b"moov", b"moof", b"mdat"]
    assert b"".join(data for _, data in got) == stream
    assert splitter.pending == 0


def test_a_truncated_box_is_not_listed() -> None:
    data = box(b"free", b"abc") + box(b"mdat", bytes(100))[:50]
    assert [b.type for b in iter_boxes(data)] == [b"free"]


def fragmented(path: Path, codec: str) -> bytes:
    """A clip remuxed by FFmpeg's fragmenting muxer, the way the live stream is made."""
    source = make_clip(path, seconds=2, fps=10, size=(160, 96), audio=True, codec=codec)
    out = path.with_suffix(".frag.mp4")
    with av.open(str(source)) as src, av.open(str(out), "w", format="mp4", options={
            "movflags": "frag_keyframe+empty_moov+default_base_moof"}) as dst:
        outputs = {}
        for stream in src.streams:
            outputs[stream.index] = dst.add_stream_from_template(stream)
            if stream.codec_context.name == "hevc":
                outputs[stream.index].codec_tag = "hvc1"
        for packet in src.demux():
            if packet.dts is None:
                continue
            packet.stream = outputs[packet.stream_index]
            dst.mux(packet)
    return out.read_bytes()


@pytest.mark.parametrize(("codec", "video"), [("h264", "avc1.64"), ("hevc", "hvc1.1.")])
def test_codecs_string_of_a_real_init_segment(tmp_path: Path, codec: str, video: str) -> None:
    data = fragmented(tmp_path / "clip.mp4", codec)
    codecs = codecs_string(data).split(",")
    assert codecs[0].startswith(video) and codecs[1] == "mp4a.40.2", codecs
    moofs = [data[b.start - 8:b.end] for b in iter_boxes(data) if b.type == b"moof"]
    assert len(moofs) == 2  # one per keyframe (a GOP of 1 s)
    assert all(starts_with_sync_sample(moof, 1) for moof in moofs)
