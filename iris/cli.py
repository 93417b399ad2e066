"""`iris up|down|status|models …`: the command-line entry point."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from iris.settings import Settings, SettingsError, ensure_api_key, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="iris", description="Iris video recorder")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start Ray, the API and the web app; Ctrl-C stops")
    up.add_argument("--demo", action="store_true", help="add a demo camera (generated clip)")
    sub.add_parser("down", help="stop a running `iris up`")
    sub.add_parser("status", help="print cameras and workers of a running instance")
    models = sub.add_parser("models", help="manage detector and face model weights")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    models_sub.add_parser("pull", help="download yolo11n + insightface buffalo_l, export ONNX")
    models_sub.add_parser("list", help="show which model files are present")
    args = parser.parse_args(argv)

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"iris: {exc}", file=sys.stderr)
        return 2

    if args.command == "up":
        from iris.runner import UnsafeSettings, run_forever

        try:
            return run_forever(settings, demo=args.demo)
        except UnsafeSettings as exc:
            print(f"iris: {exc}", file=sys.stderr)
            return 2
    if args.command == "down":
        return _down(settings)
    if args.command == "status":
        return _status(ensure_api_key(settings))
    if args.command == "models":
        from iris.models_cli import models_command

        return models_command(settings, args.models_command)
    return 2


def _down(settings: Settings) -> int:
    pid_file = settings.root / "iris.pid"
    if not pid_file.is_file():
        print("iris: not running (no pid file)", file=sys.stderr)
        return 1
    pid = int(pid_file.read_text().strip())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pid_file.unlink(missing_ok=True)
        print("iris: not running (stale pid file removed)", file=sys.stderr)
        return 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            print("Iris stopped.")
            return 0
        time.sleep(0.2)
    print("iris: still running after 60 s", file=sys.stderr)
    return 1


def _status(settings: Settings) -> int:
    import httpx

    base = f"http://{settings.host}:{settings.port}"
    headers = {"Authorization": f"Bearer {settings.api_key}"}
    try:
        health = httpx.get(f"{base}/health", timeout=5).json()
        cameras = httpx.get(f"{base}/api/cameras", headers=headers, timeout=5)
        system = httpx.get(f"{base}/api/system", headers=headers, timeout=5)
    except httpx.HTTPError as exc:
        print(f"iris: no instance answers at {base} ({exc})", file=sys.stderr)
        return 1
    if cameras.status_code != 200:
        print(f"iris: /api/cameras answered {cameras.status_code}: {cameras.text}",
              file=sys.stderr)
        return 1
    backend = system.json().get("backend", {}) if system.status_code == 200 else {}
    print(f"Iris {health['version']} at {base}: {health['status']}")
    print(f"  detector: {'available' if backend.get('detector_available') else 'unavailable'}"
          + (f" ({backend['detector_reason']})" if backend.get("detector_reason") else ""))
    print(f"  GPU memory: {health['gpu']['used_mb']}/{health['gpu']['total_mb']} MiB")
    rows = cameras.json()
    print(f"  cameras: {len(rows)}")
    for cam in rows:
        reason = f"  ({cam['status_reason']})" if cam.get("status_reason") else ""
        detector = f"  detector: {cam['detector']}" if cam.get("detector") else ""
        print(f"    #{cam['id']:<4} {cam['name'][:30]:<30} {cam['status']:<10}"
              f" {cam['fps']:5.1f} fps  last seen {cam['last_seen'] or '-'}{reason}{detector}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
