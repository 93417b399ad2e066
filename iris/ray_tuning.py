"""What embedded Ray and Serve do while Iris idles on one box, tuned (no Ray import here).

Ray's defaults suit a cluster that many jobs share; on one box with nobody watching, its
periodic work is most of what an idle Iris costs. Each value below trades a reaction time no
one-box user sees for idle CPU measured by `bench/idle_bench.py` (README "Benchmarks"). They
reach every Ray process through the environment `iris up` passes to the Ray it starts (the
raylet, GCS and every worker read their config from it); an operator's own environment wins.
A cluster (`ray_address`) keeps what its `ray start` was given.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

#: Ray's own defaults for the same keys, for the benchmark's "as Ray ships it" rows.
RAY_DEFAULTS: dict[str, str] = {
    "RAY_SERVE_CONTROL_LOOP_INTERVAL_S": "0.1",
    "RAY_metrics_report_interval_ms": "10000",
    "RAY_LOG_MONITOR_MANY_FILES_THRESHOLD": "1000",
    "LOG_NAME_UPDATE_INTERVAL_S": "0.5",
    "RAY_SERVE_METRICS_EXPORT_INTERVAL_MS": "100",
    "RAY_event_stats": "1",
    "RAY_max_direct_call_object_size": "102400",
}

ONE_BOX_ENV: dict[str, str] = {
    # The Serve controller reconciles every deployment ten times a second by default, which
    # made it the busiest idle process; twice a second still starts and heals replicas
    # within a second (health checks keep their own 10 s period).
    "RAY_SERVE_CONTROL_LOOP_INTERVAL_S": "0.5",
    # Ray's metrics (the Ray dashboard's graphs, a cluster's Prometheus) every 60 s instead of
    # 10 s. Iris's own `/api/system/metrics` comes from the cameras' heartbeats, not from here.
    "RAY_metrics_report_interval_ms": "60000",
    # The log monitor (worker logs → the `iris up` console) globbed the log folder ten times
    # a second; now it looks for new log files every 2 s and still reads open ones as before.
    "RAY_LOG_MONITOR_MANY_FILES_THRESHOLD": "0",
    "LOG_NAME_UPDATE_INTERVAL_S": "2",
    # Every Serve replica and every deployment handle (each camera actor holds the Detector's)
    # copied its request counters into Ray's metrics ten times a second; once every 5 s is
    # still twelve times per 60 s report above.
    "RAY_SERVE_METRICS_EXPORT_INTERVAL_MS": "5000",
    # Every Ray process (raylet, GCS, each worker) timed every handler of its event loops for
    # its debug-state dumps, including each worker's 100-a-second signal check; measured on
    # an idle worker, the raylet and the GCS: about a sixth of their idle CPU. Nothing Iris
    # shows reads these stats.
    "RAY_event_stats": "0",
    # Task arguments and results up to 2 MiB travel inside the call instead of through the
    # object store: a camera's letterboxed frame (300 KiB at 320 px, 1.2 MiB at 640) went
    # into shared memory for every detection, and the raylet's bookkeeping of each object
    # cost more than copying it (measured at 5 calls/s above each process's idle CPU: the
    # raylet ≈ 4 → 0.5 ms per call, the caller 2.5 ms and the replica 1.3 ms less).
    "RAY_max_direct_call_object_size": str(2 * 1024 * 1024),
}


def apply_one_box_env(environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Set the one-box values in ``environ`` (default `os.environ`) where not already set.

    Returns what is in effect for each tuned key (the operator's value where given).
    """
    env = os.environ if environ is None else environ
    for key, value in ONE_BOX_ENV.items():
        env.setdefault(key, value)
    return {key: env[key] for key in ONE_BOX_ENV}
