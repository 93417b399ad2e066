"""Webhook targets follow the camera-source address rules; loopback only for tests."""

from __future__ import annotations

import pytest

from iris.notify import NotifyConfigError, NotifyPolicy, check_notify_settings
from iris.notify.policy import (
    WebhookRefused,
    WebhookUnresolved,
    check_literal_address,
    parse_webhook_url,
    resolve_target,
)
from iris.settings import Settings, WebhookTarget, load_settings

USER = NotifyPolicy()
TESTS = NotifyPolicy(allow_loopback=True)


def answers(*addresses: str):
    return lambda host, port: list(addresses)


def test_parse_keeps_host_port_and_path_apart() -> None:
    hook = parse_webhook_url("https://HA.lan:8123/api/webhook/abc?x=1")
    assert (hook.scheme, hook.host, hook.port, hook.target) == (
        "https", "ha.lan", 8123, "/api/webhook/abc?x=1")
    assert hook.origin == "https://ha.lan:8123"  # the path (the secret id) is not shown
    assert hook.url_for("192.168.1.5") == "https://192.168.1.5:8123/api/webhook/abc?x=1"
    assert hook.host_header == "ha.lan:8123"
    assert parse_webhook_url("http://[fd00::5]/h").url_for("fd00::5") == "http://[fd00::5]:80/h"
    assert parse_webhook_url("http://h/").host_header == "h"


def test_user_info_becomes_basic_auth() -> None:
    hook = parse_webhook_url("https://n8n:p%40ss@flows.lan/webhook/x")
    assert hook.auth_header() == "Basic bjhuOnBAc3M="  # base64("n8n:p@ss")
    assert "p%40ss" not in hook.url_for("10.0.0.1")
    assert parse_webhook_url("https://flows.lan/x").auth_header() is None


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://ha.lan/x", "http:// or https://"),
    ("file:///etc/passwd", "http:// or https://"),
    ("http:///x", "no host"),
    ("http://ha.lan:0x50/x", "not a valid URL"),
    ("http://ha.lan/x#frag", "fragment"),
    ("http://ha.lan/a b", "spaces"),
])
def test_malformed_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(NotifyConfigError, match=message):
        parse_webhook_url(url)


@pytest.mark.parametrize("address", ["192.168.1.20", "10.1.2.3", "172.16.0.9", "fd00::20",
                                     "203.0.113.7"])
def test_lan_and_public_addresses_receive_webhooks(address: str) -> None:
    hook = parse_webhook_url("http://ha.lan:8123/api/webhook/x")
    assert resolve_target(hook, USER, answers(address)) == address


@pytest.mark.parametrize(("address", "why"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("169.254.10.10", "link-local"), ("fe80::1", "link-local"),
    ("169.254.169.254", "metadata"), ("fd00:ec2::254", "metadata"),
    ("100.100.100.200", "metadata"), ("0.0.0.0", "unspecified"),
])
def test_forbidden_addresses_are_refused_after_resolution(address: str, why: str) -> None:
    hook = parse_webhook_url("http://hooks.example/x")
    with pytest.raises(WebhookRefused, match=why) as caught:
        resolve_target(hook, USER, answers(address))
    assert "/x" not in str(caught.value)


def test_one_forbidden_answer_among_good_ones_refuses_the_target() -> None:
    hook = parse_webhook_url("http://hooks.example/x")
    with pytest.raises(WebhookRefused, match="metadata"):
        resolve_target(hook, USER, answers("192.168.1.20", "169.254.169.254"))


def test_the_test_policy_opens_loopback_and_nothing_else() -> None:
    hook = parse_webhook_url("http://localhost:9/x")
    assert resolve_target(hook, TESTS, answers("127.0.0.1")) == "127.0.0.1"
    for address in ("169.254.169.254", "169.254.1.1", "0.0.0.0"):
        with pytest.raises(WebhookRefused):
            resolve_target(hook, TESTS, answers(address))


def test_no_setting_opens_loopback() -> None:
    settings = load_settings(tls_verify=False, webhooks=[{"url": "http://127.0.0.1:9/x"}])
    assert NotifyPolicy.from_settings(settings).allow_loopback is False
    assert not [name for name in Settings.model_fields if "loopback" in name]


def test_a_name_that_does_not_resolve_is_worth_a_retry() -> None:
    hook = parse_webhook_url("http://nowhere.invalid/x")
    with pytest.raises(WebhookUnresolved):
        resolve_target(hook, USER, answers())

    def failing(host: str, port: int) -> list[str]:
        from iris.sources import SourceRefused
        raise SourceRefused("The camera host nowhere.invalid does not resolve.")

    with pytest.raises(WebhookUnresolved, match="webhook|does not resolve") as caught:
        resolve_target(hook, USER, failing)
    assert "camera" not in str(caught.value)


def test_literal_addresses_are_checked_at_start_up() -> None:
    check_literal_address(parse_webhook_url("http://ha.lan/x"), USER)  # names: at delivery
    check_literal_address(parse_webhook_url("http://192.168.1.5/x"), USER)
    with pytest.raises(NotifyConfigError, match="metadata"):
        check_literal_address(parse_webhook_url("http://169.254.169.254/latest"), USER)


def test_check_notify_settings_names_the_bad_entry() -> None:
    settings = load_settings(webhooks=[WebhookTarget(url="http://ha.lan/x"),
                                       WebhookTarget(url="http://[::1]:8080/x")])
    with pytest.raises(NotifyConfigError, match=r"webhooks\[1\].*loopback"):
        check_notify_settings(settings)
    with pytest.raises(NotifyConfigError, match="mqtt_url"):
        check_notify_settings(load_settings(mqtt_url="tcp://broker:1883"))
    check_notify_settings(load_settings(mqtt_url="mqtt://broker", webhooks=[]))
