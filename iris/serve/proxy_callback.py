"""What Serve's HTTP proxies wrap their app in: the live relay and the write-timeout guard.

`iris.runner.deploy` starts Serve with `CONTROLLER_OPTIONS`, which set
`RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH` for the controller; the proxies it starts inherit its
environment and call `proxy_middlewares` (no Ray import here).
"""

from __future__ import annotations

from typing import Any

from starlette.middleware import Middleware

from iris.serve.proxy_guard import WriteTimeoutGuard
from iris.serve.relay import LiveRelay

CALLBACK = "iris.serve.proxy_callback:proxy_middlewares"
CONTROLLER_OPTIONS: dict[str, Any] = {
    "runtime_env": {"env_vars": {"RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH": CALLBACK}}}
"""`serve.start(controller_options=...)`: the controller's proxies install the middlewares."""


def proxy_middlewares() -> list[Middleware]:
    """Serve's HTTP proxy callback: the middlewares every proxy wraps its app in.

    Serve wraps in list order, so the last is outermost: the guard bounds the writes of the
    live streams the relay sends from the proxy too.
    """
    return [Middleware(LiveRelay), Middleware(WriteTimeoutGuard)]
