"""Detection cadence: the rate holds at 25 fps input; the motion gate keeps its time constant."""

from iris.actors.detection import next_detect_at


def detections_per_second(fps: float, interval: float, seconds: float = 20.0,
                          jitter: float = 0.002) -> float:
    last, count = 0.0, 0
    for i in range(int(fps * seconds)):
        wall = 100.0 + i / fps + (jitter if i % 2 else -jitter)
        if wall - last >= interval:
            last = next_detect_at(last, wall, interval)
            count += 1
    return count / seconds


def test_five_per_second_at_25_fps_is_five_not_four() -> None:
    assert abs(detections_per_second(25, 0.2) - 5.0) < 0.1


def test_a_slow_detector_resyncs_instead_of_bursting() -> None:
    last = next_detect_at(10.0, 11.0, 0.2)  # the detector took a second
    assert last == 11.0


def test_within_one_interval_late_keeps_the_grid() -> None:
    assert next_detect_at(10.0, 10.23, 0.2) == 10.2


def test_motion_background_keeps_its_time_constant_at_the_detect_cadence() -> None:
    from iris.actors.detection import motion_learning_rate

    assert abs(motion_learning_rate(0.04) - 0.05) < 1e-9  # each frame of 25 fps: per-frame rate
    rate = motion_learning_rate(0.2)  # 5 updates a second absorb as much as 25 did
    assert abs((1 - rate) - 0.95 ** 5) < 1e-9
    assert motion_learning_rate(1000.0) <= 1.0
