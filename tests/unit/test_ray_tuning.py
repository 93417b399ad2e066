"""One-box Ray tuning: applied where the operator said nothing, never over what they said."""

from __future__ import annotations

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
