"""What `iris doctor` checks, each as a plain function returning `Check`s in plain words: what
is wrong, what it means for recording, and what to do. No check changes anything on the box
(the write test removes its file).
"""

from __future__ import annotations

import errno
import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

import httpx

from iris.cli.api import api_key, base_url
from iris.cli.backend_state import detector_state
from iris.layout import Layout
from iris.models.fetch import sha256_of
from iris.models.fetch_install import read_lock
from iris.models.fetch_plan import Need, lock_path, plan
from iris.models.manifest import Manifest
from iris.settings import API_KEY_FILE, Settings

Status = Literal["ok", "warn", "fail"]
GIB = 1 << 30
MIN_FREE_GIB, LOW_FREE_GIB = 1.0, 10.0
WRITE_TEST_BYTES = 32 << 20
SLOW_WRITE_MBPS = 5.0
CLOCK_FLOOR = datetime(2025, 1, 1, tzinfo=UTC)
"""No correct clock reads earlier than this (this Iris did not exist yet)."""
FUTURE_SLACK_S = 300


@dataclass(frozen=True)
class Check:
    """One finding: ``ok``, ``warn`` (Iris runs, with less) or ``fail`` (something is broken)."""

    name: str
    status: Status
    summary: str
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        """For ``--json``."""
        return asdict(self)


def check_ffmpeg(settings: Settings) -> list[Check]:
    """ffmpeg runs the live view with sound (HLS)."""
    path = shutil.which("ffmpeg")
    if path is None:
        status: Status = "fail" if settings.hls_enabled else "warn"
        return [Check("ffmpeg", status, "ffmpeg is not installed: live view with sound (HLS) "
                      "cannot start; recording and MJPEG live view still work",
                      "install it: apt-get install ffmpeg (make up does this), or set "
                      "hls_enabled: false")]
    try:
        first = subprocess.run([path, "-version"], capture_output=True, text=True,
                               timeout=10).stdout.splitlines()[:1]
    except (OSError, subprocess.TimeoutExpired):
        first = []
    if not first:
        return [Check("ffmpeg", "fail", f"{path} is there but does not run",
                      "reinstall it: apt-get install --reinstall ffmpeg")]
    return [Check("ffmpeg", "ok", f"{first[0].split(' Copyright')[0]} ({path})")]


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _why_unwritable(exc: OSError, folder: Path) -> str:
    if exc.errno == errno.EROFS:
        return f"{folder} is on a read-only file system"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"{folder} is not writable by user {getpass.getuser()}"
    if exc.errno == errno.ENOSPC:
        return f"{folder} is on a full disk"
    return f"{folder} cannot be written ({exc.strerror})"


def check_data_root(settings: Settings) -> list[Check]:
    """The data root: writable, free space, write speed."""
    root = settings.root
    if root.exists() and not root.is_dir():
        return [Check("data root", "fail", f"{root} is a file, not a folder: Iris cannot "
                      "keep recordings there", "point data_dir (IRIS_DATA_DIR) at a folder")]
    where = root if root.is_dir() else _existing(root)
    note = "" if root.is_dir() else f" ({root} does not exist yet; iris up creates it)"
    started = time.monotonic()
    try:
        fd, name = tempfile.mkstemp(dir=where, prefix=".iris-doctor-")
    except OSError as exc:
        return [Check("data root", "fail", f"{_why_unwritable(exc, where)}: Iris cannot record, "
                      "keep its database or download models", "give the user that runs "
                      f"Iris write access (chown -R {getpass.getuser()} {root}), remount it "
                      "read-write, or set data_dir to a writable folder")]
    checks = [Check("data root", "ok", f"{root} is writable{note}")]
    try:
        chunk = os.urandom(1 << 20)
        written = 0
        with os.fdopen(fd, "wb") as out:
            while written < WRITE_TEST_BYTES:
                out.write(chunk)
                written += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        mbps = written / 1e6 / max(time.monotonic() - started, 1e-6)
        if mbps < SLOW_WRITE_MBPS:
            checks.append(Check("write speed", "warn", f"{mbps:.0f} MB/s to {where}: slow; each "
                                "camera writes about 0.5-2 MB/s, so a few will fall behind",
                                "use a local disk rather than a slow network share or SD card"))
        else:
            checks.append(Check("write speed", "ok", f"{mbps:.0f} MB/s (32 MB, fsync)"))
    except OSError as exc:
        checks.append(Check("write speed", "fail", f"writing a test file failed: "
                            f"{_why_unwritable(exc, where)}", "free space or fix the disk"))
    finally:
        Path(name).unlink(missing_ok=True)
    usage = shutil.disk_usage(where)
    free = usage.free / GIB
    if free < MIN_FREE_GIB:
        checks.append(Check("disk space", "fail", f"{free:.1f} GiB free on {where}: cameras "
                            "stop recording when the disk is full", "free space, or lower "
                            "retention_days / storage_max_gb"))
    elif free < LOW_FREE_GIB or (settings.storage_max_gb and settings.storage_max_gb > free):
        checks.append(Check("disk space", "warn", f"{free:.1f} GiB free on {where}"
                            + (f", less than storage_max_gb ({settings.storage_max_gb:g})"
                               if settings.storage_max_gb > free else ""),
                            "free space or set storage_max_gb below the free space"))
    else:
        checks.append(Check("disk space", "ok", f"{free:.0f} GiB free of "
                            f"{usage.total / GIB:.0f} GiB"))
    return checks


def _expected(need: Need, lock: dict[str, Any]) -> tuple[str | None, str]:
    if need.entry is not None and need.entry.name == need.target.name:
        return need.entry.sha256, "the pinned hash"
    record = lock.get("installed", {}).get(f"detector:{need.target.name}", {})
    if record.get("path") == str(need.target) and record.get("sha256"):
        return record["sha256"], f"the hash recorded when it was exported from {record['from']}"
    return None, ""


def check_models(settings: Settings, manifest: Manifest) -> list[Check]:
    """Detector weights and the face pack: present, and their hashes what they should be."""
    detector, faces = plan(settings, manifest)
    lock = read_lock(lock_path(settings))
    checks: list[Check] = []
    if not detector.present:
        checks.append(Check("detector model", "warn", f"no detector weights at "
                            f"{detector.target}: cameras record on motion only (no person/car "
                            "detection)", "run `iris models pull` (or copy a YOLO .onnx there)"))
    else:
        digest = sha256_of(detector.target)
        want, what = _expected(detector, lock)
        if want is None:
            checks.append(Check("detector model", "ok", f"{detector.target} sha256 "
                                f"{digest[:16]}… (not a pinned file: placed by hand)"))
        elif digest == want:
            checks.append(Check("detector model", "ok", f"{detector.target} sha256 "
                                f"{digest[:16]}… matches {what}"))
        else:
            checks.append(Check("detector model", "fail", f"{detector.target} has sha256 "
                                f"{digest[:16]}…, not {what} ({want[:16]}…): the file changed "
                                "or is damaged", "delete it and run `iris models pull`"))
    checks.append(_check_pack(faces))
    return checks


def _check_pack(faces: Need) -> Check:
    if not faces.target.is_dir():
        return Check("face models", "warn", f"no face pack at {faces.target}: enrollment "
                     "answers 503 and identities use appearance only",
                     "run `iris models pull` (or copy the insightface pack folder there)")
    members = faces.entry.members if faces.entry else {}
    missing = [n for n in members if not (faces.target / n).is_file()]
    if missing:
        return Check("face models", "fail", f"the pack at {faces.target} lacks "
                     f"{', '.join(missing)}: face features cannot load",
                     f"delete {faces.target} and run `iris models pull`")
    wrong = [n for n, pin in members.items() if sha256_of(faces.target / n) != pin.sha256]
    if wrong:
        return Check("face models", "fail", f"{', '.join(wrong)} in {faces.target} "
                     "differ from the pinned files: damaged or replaced",
                     f"delete {faces.target} and run `iris models pull`")
    if not members:
        return Check("face models", "ok", f"{faces.target} present (not a pinned pack: hashes "
                     "not checked)")
    return Check("face models", "ok", f"{faces.target}: {len(members)} files match their "
                 "pinned hashes")


def iris_pid(settings: Settings) -> int | None:
    """The pid of this data dir's `iris up`, when it is alive."""
    try:
        pid = int(Layout(settings.root).pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def _owner(port: int) -> str:
    try:
        import psutil

        for conn in psutil.net_connections(kind="tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == "LISTEN" and conn.pid:
                return f"{psutil.Process(conn.pid).name()} (pid {conn.pid})"
    except Exception:  # noqa: BLE001 - naming the owner is a courtesy
        pass
    return "another program"


def _answers_as_iris(url: str) -> bool:
    try:
        body = httpx.get(f"{url}/health", timeout=3).json()
    except (httpx.HTTPError, ValueError):
        return False
    return isinstance(body, dict) and "version" in body and "status" in body


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]") or "0.0.0.0", port))
        except OSError:
            return False
    return True


def check_ports(settings: Settings) -> list[Check]:
    """The API port and the Ray dashboard's: free, or held by this Iris."""
    pid = iris_pid(settings)
    wanted = [(settings.port, "API port", "port", settings.host)]
    if settings.dashboard and not settings.ray_address:
        wanted.append((settings.dashboard_port, "dashboard port", "dashboard_port", "127.0.0.1"))
    checks = []
    for port, name, key, host in wanted:
        label = f"{name} {port}"
        if _port_free(host, port):
            checks.append(Check(label, "ok", f"free on {host}"))
        elif key == "port" and _answers_as_iris(base_url(settings)):
            checks.append(Check(label, "ok", "in use by Iris (running"
                                + (f", pid {pid})" if pid else ")")))
        elif key == "dashboard_port" and pid is not None:
            checks.append(Check(label, "ok", f"in use by Iris's Ray dashboard (pid {pid})"))
        else:
            checks.append(Check(label, "fail", f"port {port} is in use by {_owner(port)}: "
                                "iris up cannot listen there", f"stop that program, or choose "
                                f"another port ({key}: …, IRIS_{key.upper()}=…)"))
    return checks


def check_ray(settings: Settings) -> list[Check]:
    """Ray installed, its token mode, and a configured cluster reachable."""
    try:
        ray_version = version("ray")
    except PackageNotFoundError:
        return [Check("ray", "fail", "Ray is not installed: Iris cannot start",
                      "reinstall: make up (or pip install -e .)")]
    mode = os.environ.get("RAY_AUTH_MODE", "token").strip().lower()
    if mode != "token":
        return [Check("ray", "fail", f"RAY_AUTH_MODE={mode}: Iris runs Ray only with token "
                      "authentication and will refuse to start", "unset RAY_AUTH_MODE")]
    if not settings.ray_address:
        return [Check("ray", "ok", f"Ray {ray_version}, embedded (iris up starts it)")]
    host, _, port = settings.ray_address.rpartition(":")
    target = (host or settings.ray_address, int(port) if port.isdigit() else 6379)
    try:
        with socket.create_connection(target, timeout=3):
            pass
    except OSError as exc:
        return [Check("ray", "fail", f"cannot reach the Ray cluster at {settings.ray_address} "
                      f"({exc.strerror or exc}): iris up will not start", "start the head "
                      "(ray up ray_cluster.yaml) or fix ray_address; the cluster network must "
                      "allow this machine")]
    return [Check("ray", "ok", f"Ray {ray_version}; cluster at {settings.ray_address} answers")]


def check_gpu() -> list[Check]:
    """GPUs the driver shows, and whether onnxruntime can use them."""
    from iris.gpu import gpu_memory

    try:
        import onnxruntime

        providers = list(onnxruntime.get_available_providers())
    except Exception as exc:  # noqa: BLE001 - a broken onnxruntime is what this reports
        return [Check("gpu", "fail", f"onnxruntime does not load ({exc}): no detector, no "
                      "faces", "reinstall: pip install --force-reinstall onnxruntime")]
    devices = gpu_memory()["devices"]
    names = ", ".join(p.removesuffix("ExecutionProvider") for p in providers)
    if not devices:
        return [Check("gpu", "ok", f"no GPU: models run on the CPU (onnxruntime: {names})")]
    gpus = ", ".join(f"{d['name']} ({d['total_mb']} MiB)" for d in devices)
    if "CUDAExecutionProvider" not in providers:
        return [Check("gpu", "warn", f"{gpus}, but onnxruntime has no CUDA provider: models "
                      "run on the CPU", "pip install -e '.[gpu]' (onnxruntime-gpu)")]
    return [Check("gpu", "ok", f"{gpus}; onnxruntime: {names}")]


def check_clock(settings: Settings, now: datetime | None = None) -> list[Check]:
    """The wall clock: plausible, not behind files already written, synchronised."""
    now = now or datetime.now(UTC)
    if now < CLOCK_FLOOR:
        return [Check("clock", "fail", f"the clock reads {now:%Y-%m-%d %H:%M} UTC, which is "
                      "wrong: events and retention go by this time", "set the time: "
                      "timedatectl set-ntp true (or date -s)")]
    newest = 0.0
    if settings.root.is_dir():
        for path in settings.root.iterdir():
            try:
                newest = max(newest, path.stat().st_mtime)
            except OSError:
                continue
    if newest > now.timestamp() + FUTURE_SLACK_S:
        ahead = datetime.fromtimestamp(newest, UTC)
        return [Check("clock", "warn", f"files in {settings.root} are dated up to "
                      f"{ahead:%Y-%m-%d %H:%M} UTC, after now: the clock went back; new events "
                      "sort before old ones", "check NTP (timedatectl)")]
    synced = _ntp_synchronised()
    if synced is False:
        return [Check("clock", "warn", f"{now.astimezone():%Y-%m-%d %H:%M %Z}, not synchronised "
                      "(NTP): event times may drift", "timedatectl set-ntp true "
                      "(systemd-timesyncd or chrony)")]
    state = "synchronised" if synced else "NTP state unknown"
    return [Check("clock", "ok", f"{now.astimezone():%Y-%m-%d %H:%M %Z} ({state})")]


def _ntp_synchronised() -> bool | None:
    tool = shutil.which("timedatectl")
    if tool is None:
        return None
    try:
        out = subprocess.run([tool, "show", "-p", "NTPSynchronized", "--value"],
                             capture_output=True, text=True, timeout=3).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return {"yes": True, "no": False}.get(out)


def check_instance(settings: Settings) -> list[Check]:
    """A running Iris: answers, and accepts the key the CLI uses."""
    url = base_url(settings)
    if not _answers_as_iris(url):
        return [Check("iris", "ok", f"not running at {url}")]
    key = api_key(settings)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        answer = httpx.get(f"{url}/api/system", headers=headers, timeout=5)
    except httpx.HTTPError as exc:
        return [Check("iris", "warn", f"running at {url} but /api/system failed ({exc})")]
    if answer.status_code in (401, 403):
        return [Check("iris", "fail", f"running at {url}, but it refuses the CLI's key: CLI "
                      "commands will fail", f"use the key of that instance (IRIS_API_KEY or "
                      f"{settings.root / API_KEY_FILE})")]
    backend = answer.json().get("backend", {}) if answer.is_success else {}
    return [Check("iris", "ok", f"running at {url}; detector {detector_state(backend)}")]


def run_checks(settings: Settings, manifest: Manifest) -> list[Check]:
    """Every check, in the order the report prints them."""
    return [*check_instance(settings), *check_ffmpeg(settings), *check_data_root(settings),
            *check_models(settings, manifest), *check_ports(settings), *check_ray(settings),
            *check_gpu(), *check_clock(settings)]
