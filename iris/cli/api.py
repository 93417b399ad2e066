"""The running instance's REST API as the CLI uses it: its address, the key, and failures turned
into messages and exit statuses (`iris.cli.exit_codes`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar

import click
import httpx

from iris.cli import settings_of
from iris.cli.exit_codes import CliError, ExitCode
from iris.settings import API_KEY_FILE, Settings

TIMEOUT_S = 10.0
P = ParamSpec("P")
R = TypeVar("R")
_ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "[::1]"}


def base_url(settings: Settings) -> str:
    """Where the instance answers: its host (loopback when it binds every address) and port."""
    host = _ANY_ADDRESS.get(settings.host, settings.host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def api_key(settings: Settings) -> str | None:
    """The key: ``IRIS_API_KEY`` / ``api_key``, else the file `iris up` keeps (never created)."""
    if settings.api_key:
        return settings.api_key
    path = settings.root / API_KEY_FILE
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):  # pydantic's list of field errors
        return "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', [])[1:]) or 'body'}: {e.get('msg')}"
            for e in detail if isinstance(e, dict))
    return str(detail)


class Api:
    """Authenticated calls to one running instance."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base = base_url(settings)
        self.key = api_key(settings)

    def _headers(self) -> dict[str, str]:
        if self.key is None and self.settings.auth_required:
            raise CliError(ExitCode.AUTH,
                           "no API key: set IRIS_API_KEY, or start Iris once (`iris up`) so "
                           f"that it creates {self.settings.root / API_KEY_FILE}")
        return {"Authorization": f"Bearer {self.key}"} if self.key else {}

    def _unreachable(self, exc: httpx.HTTPError) -> CliError:
        if isinstance(exc, httpx.ConnectError):
            return CliError(ExitCode.UNREACHABLE,
                            f"Iris is not running at {self.base} (nothing answers there); "
                            "start it with `iris up`")
        return CliError(ExitCode.UNREACHABLE,
                        f"no answer from {self.base} ({type(exc).__name__})")

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call; a non-2xx answer or no answer raises `CliError` with the right status."""
        headers = self._headers()
        try:
            response = httpx.request(method, self.base + path, headers=headers,
                                     timeout=TIMEOUT_S, **kwargs)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        if response.is_success:
            return response
        raise self.refusal(method, path, response)

    @contextmanager
    def stream(self, path: str, *, params: dict[str, Any],
               first_byte_s: float) -> Iterator[httpx.Response]:
        """A GET whose body the caller reads as it comes (a download); the server may take
        `first_byte_s` before it answers. Failures raise `CliError` as `request` does."""
        headers = self._headers()
        timeout = httpx.Timeout(TIMEOUT_S, read=first_byte_s)
        try:
            with httpx.stream("GET", self.base + path, params=params, headers=headers,
                              timeout=timeout) as response:
                if not response.is_success:
                    response.read()
                    raise self.refusal("GET", path, response)
                yield response
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None

    def refusal(self, method: str, path: str, response: httpx.Response) -> CliError:
        """The `CliError` (message and exit status) for a non-2xx answer."""
        detail = _detail(response)
        if response.status_code == 403 and "admin role" in detail:
            return CliError(ExitCode.AUTH, f"{detail} (this key's role is not admin)")
        if response.status_code in (401, 403):
            return CliError(ExitCode.AUTH,
                            f"{self.base} refused the key ({detail}); the key comes from "
                            f"IRIS_API_KEY or {self.settings.root / API_KEY_FILE}")
        if response.status_code == 404:
            return CliError(ExitCode.NOT_FOUND, detail)
        if response.status_code in (400, 409, 422):
            return CliError(ExitCode.USAGE, detail)
        return CliError(ExitCode.FAILURE,
                        f"{method} {path} answered {response.status_code}: {detail}")

    def get(self, path: str, **params: Any) -> Any:
        """GET → JSON (``None`` params are left out)."""
        query = {k: v for k, v in params.items() if v is not None}
        return self.request("GET", path, params=query).json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """POST a JSON body → JSON."""
        return self.request("POST", path, json=body).json()

    def put(self, path: str, body: dict[str, Any]) -> Any:
        """PUT a JSON body → JSON."""
        return self.request("PUT", path, json=body).json()

    def delete(self, path: str) -> None:
        """DELETE (204)."""
        self.request("DELETE", path)


def pass_api(command: Callable[Concatenate[Api, P], R]) -> Callable[P, R]:
    """Like `click.pass_context`, but the command gets the running instance's `Api` first."""
    def with_api(*args: P.args, **kwargs: P.kwargs) -> R:
        return command(Api(settings_of(click.get_current_context())), *args, **kwargs)

    return functools.update_wrapper(with_api, command)
