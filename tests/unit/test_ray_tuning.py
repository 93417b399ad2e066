"""One-box Ray tuning: applied where the operator said nothing, never over what they said."""

from __future__ import annotations

from pathlib import Path

from iris.ray_tuning import ONE_BOX_ENV, RAY_DEFAULTS, apply_one_box_env


def test_tuning_fills_what_the_environment_leaves_unset() -> None:
    env: dict[str, str] = {"PATH": "/bin"}
    applied = apply_one_box_env(env)
    assert applied == ONE_BOX_ENV
    assert env == {"PATH": "/bin", **ONE_BOX_ENV}


def test_the_operators_own_values_win() -> None:
    env = {"RAY_SERVE_CONTROL_LOOP_INTERVAL_S": "0.1"}
    applied = apply_one_box_env(env)
    assert env["RAY_SERVE_CONTROL_LOOP_INTERVAL_S"] == "0.1"
    assert applied["RAY_SERVE_CONTROL_LOOP_INTERVAL_S"] == "0.1"
    assert applied["RAY_metrics_report_interval_ms"] == ONE_BOX_ENV[
        "RAY_metrics_report_interval_ms"]


def test_every_tuned_key_has_rays_default_for_the_benchmark() -> None:
    assert set(RAY_DEFAULTS) == set(ONE_BOX_ENV)
    assert all(RAY_DEFAULTS[key] != ONE_BOX_ENV[key] for key in ONE_BOX_ENV)


def test_banner_says_how_to_start_the_dashboard_when_it_is_off(tmp_path: Path) -> None:
    from iris.runner import banner
    from iris.settings import load_settings

    local = "\n".join(banner(load_settings(data_dir=tmp_path, dashboard=False), None))
    assert "Ray dashboard:  off" in local and "IRIS_DASHBOARD=true" in local
    on = "\n".join(banner(load_settings(data_dir=tmp_path), "http://127.0.0.1:8265"))
    assert "Ray dashboard:  http://127.0.0.1:8265" in on and "off" not in on
    cluster = load_settings(data_dir=tmp_path, ray_address="ray://head:10001")
    assert "Ray dashboard" not in "\n".join(banner(cluster, None))
