"""Prometheus text exposition of Iris's own series (no Ray): cameras, recording, detector,
identities.

Ray's metrics (`ray.util.metrics`, exported by every node's metrics agent) carry the same
numbers for a Prometheus that scrapes the cluster; this endpoint serves an instance's view
from one URL, behind the API's authentication.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# name → (type, help, heartbeat key)
CAMERA_SERIES: dict[str, tuple[str, str, str]] = {
    "iris_camera_up": ("gauge", "1 when the camera is online", "status"),
    "iris_camera_decode_fps": ("gauge", "Decoded frames per second", "fps"),
    "iris_camera_frames_decoded_total": ("counter", "Frames decoded", "frames_decoded"),
    "iris_camera_frames_dropped_total": (
        "counter", "Frames the detection loop never saw (it was busy)", "frames_dropped"),
    "iris_camera_detections_total": ("counter", "Detector calls", "detections"),
    "iris_camera_skipped_static_total": (
        "counter", "Detector calls saved by the motion gate", "skipped_static"),
    "iris_camera_detect_latency_ms": ("gauge", "Last detector round trip", "detect_latency_ms"),
    "iris_camera_events_total": ("counter", "Events recorded", "events"),
    "iris_camera_reid_crops_total": ("counter", "Crops sent for re-identification", "reid_sent"),
    "iris_camera_jpeg_encodes_total": ("counter", "Live JPEGs encoded", "jpeg_encodes"),
}


def _escape(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Mapping[str, object]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items()) + "}"


def _family(name: str, kind: str, help_text: str,
            samples: Iterable[tuple[Mapping[str, object], float]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{_labels(labels)} {float(value):g}" for labels, value in samples]
    return lines


# name → (type, help, attribute of CameraRecordingStats)
RECORDING_SERIES: dict[str, tuple[str, str, str]] = {
    "iris_recording_gap_seconds_total": (
        "counter", "Seconds a camera did not record (outages, restarts; retained history)",
        "gap_seconds"),
    "iris_recording_coverage_ratio": (
        "gauge", "Share of today (UTC) the camera recorded", "coverage_today"),
    "iris_recording_bytes": ("gauge", "Bytes of the camera's indexed footage", "bytes"),
}


def render(states: Mapping[int, Mapping[str, Any]], detector: Mapping[str, Any],
           identity: Mapping[str, Any] | None,
           recording: Mapping[int, Any] | None = None,
           extra: Iterable[tuple[str, str, str, list[tuple[dict[str, object], float]]]] = (),
           ) -> str:
    """All series as Prometheus text (version 0.0.4).

    `recording` maps camera ids to `iris.recording.queries.CameraRecordingStats`; `extra` are
    further families as (name, type, help, samples), e.g. `iris.notify.notify_series`.
    """
    lines: list[str] = []
    for name, (kind, help_text, key) in CAMERA_SERIES.items():
        samples = []
        for camera_id, state in sorted(states.items()):
            labels = {"camera_id": camera_id, "camera": state.get("name", "")}
            if key == "status":
                samples.append((labels, 1.0 if state.get("status") == "online" else 0.0))
            elif key in state and state[key] is not None:
                samples.append((labels, float(state[key])))
        lines += _family(name, kind, help_text, samples)

    lines += _family("iris_detector_available", "gauge", "1 when detector weights are loaded",
                     [({}, 1.0 if detector.get("available") else 0.0)])
    batches = detector.get("batch_sizes") or {}
    lines += _family("iris_detector_batches_total", "counter", "Detector batches by size",
                     [({"size": size}, count) for size, count in sorted(
                         batches.items(), key=lambda item: int(item[0]))])
    if identity:
        lines += _family("iris_identity_sightings_total", "counter",
                         "Sightings assigned to identities",
                         [({}, identity.get("sightings_assigned", 0))])
        lines += _family("iris_identity_gallery_size", "gauge", "Vectors per FAISS gallery", [
            ({"gallery": key}, value) for key, value in sorted(identity.items())
            if key in {"people_faces", "identity_faces", "identity_appearance"}])
    if recording is not None:
        for name, (kind, help_text, attribute) in RECORDING_SERIES.items():
            lines += _family(name, kind, help_text, [
                ({"camera_id": camera_id}, getattr(stats, attribute))
                for camera_id, stats in sorted(recording.items())
                if getattr(stats, attribute) is not None])
    for name, kind, help_text, samples in extra:
        lines += _family(name, kind, help_text, samples)
    return "\n".join(lines) + "\n"
