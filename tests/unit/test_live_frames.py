"""LatestFrame keeps decoded frames as they are and converts one only when it is used."""

import av
import numpy as np

from iris.actors.live_frames import LatestFrame


def decoded(value: int) -> av.VideoFrame:
    image = np.full((72, 128, 3), value, np.uint8)
    return av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")


def test_frames_nobody_looks_at_are_never_converted() -> None:
    latest = LatestFrame()
    for value in range(25):
        latest.put(decoded(value * 8), float(value))
    assert latest.peek() == (25, 24.0)
    assert latest.conversions == 0
    seq, image, wall = latest.get()
    assert (seq, wall) == (25, 24.0)
    assert image is not None and image.shape == (72, 128, 3) and image.dtype == np.uint8
    assert abs(int(image.mean()) - 24 * 8) <= 6  # the newest frame (YUV round trip)
    assert latest.conversions == 1


def test_one_conversion_serves_detection_and_the_jpeg() -> None:
    latest = LatestFrame()
    latest.put(decoded(100), 1.0)
    _, first, _ = latest.get()
    got = latest.jpeg(0, 1.0)
    _, again, _ = latest.get()
    assert got is not None and got[1][:2] == b"\xff\xd8"
    assert again is first and latest.conversions == 1


def test_bgr_arrays_are_kept_as_given() -> None:
    latest = LatestFrame()
    image = np.zeros((4, 4, 3), np.uint8)
    latest.put(image, 2.0)
    assert latest.get()[1] is image and latest.conversions == 0
