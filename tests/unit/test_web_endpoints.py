"""The SPA reaches the API through one module, and builds its credential header in one place.

`web/js/endpoints.js` holds a function per route of the contract; no other file of `web/`
spells an API path, so a route that moves changes one line. The routes it names are exactly
the server's (method and path): a new route without a function, or a function for a route
that does not exist, fails here rather than in a browser. The markup rules the app's strict CSP
relies on (no injected HTML, no eval, no inline script or style) are checked on the same files.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from iris.serve.api import create_api
from iris.settings import load_settings

WEB = Path(__file__).resolve().parents[2] / "web"
ENDPOINTS = WEB / "js" / "endpoints.js"
AUTH = WEB / "js" / "auth.js"
TEXT_FILES = ("*.js", "*.html", "*.css", "*.svg")

# "/api" as a path: followed by "/", a quote, a backtick or a query ("../api.js" is a module).
API_PATH = re.compile(r"/api(?=[/\"'`?])")
# endpoints.js's route helpers, each with its HTTP method, and the path literal they are given.
HELPERS = {"get": "GET", "media": "GET", "post": "POST", "upload": "POST",
           "sendAndForget": "POST", "put": "PUT", "del": "DELETE"}
CALL = re.compile(r"\b(" + "|".join(HELPERS) + r")\(\s*[\"`]([^\"`]+)[\"`]")
PLACEHOLDER = re.compile(r"\$\{[^}]*\}|\{[^}]*\}")
UNSAFE = re.compile(r"\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|"
                    r"new Function\(|setTimeout\(\s*[\"'`]")


def web_files() -> list[Path]:
    files = sorted({path for pattern in TEXT_FILES for path in WEB.rglob(pattern)})
    assert ENDPOINTS in files and len(files) > 20, files
    return files


def lines_matching(pattern: re.Pattern[str], path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [f"{path.relative_to(WEB)}:{n}: {line.strip()}"
            for n, line in enumerate(text.splitlines(), 1) if pattern.search(line)]


def test_no_api_path_outside_the_endpoints_module() -> None:
    found = [hit for path in web_files() if path != ENDPOINTS
             for hit in lines_matching(API_PATH, path)]
    assert found == [], "API paths belong in web/js/endpoints.js:\n" + "\n".join(found)


def test_the_credential_header_is_built_only_in_auth_js() -> None:
    bearer = re.compile(r"Bearer")
    found = [hit for path in web_files() if path != AUTH for hit in lines_matching(bearer, path)]
    assert found == [], "use authHeaders() from web/js/auth.js:\n" + "\n".join(found)
    assert lines_matching(re.compile(r"export function authHeaders\("), AUTH)


def endpoint_routes() -> set[tuple[str, str]]:
    text = ENDPOINTS.read_text(encoding="utf-8")
    return {(HELPERS[helper], PLACEHOLDER.sub("{}", path)) for helper, path in CALL.findall(text)}


def server_routes(tmp_path: Path) -> set[tuple[str, str]]:
    app = create_api(load_settings(data_dir=tmp_path, api_key="unit-key"))
    paths = app.openapi()["paths"]
    return {(method.upper(), PLACEHOLDER.sub("{}", path))
            for path, operations in paths.items() for method in operations}


def test_endpoints_name_every_route_of_the_server_and_no_other(tmp_path: Path) -> None:
    ours, server = endpoint_routes(), server_routes(tmp_path)
    assert len(server) > 40, server  # the whole contract, not an empty app
    missing = sorted(server - ours)
    unknown = sorted(ours - server)
    assert missing == [], f"routes without a function in web/js/endpoints.js: {missing}"
    assert unknown == [], f"web/js/endpoints.js names routes the server lacks: {unknown}"


@pytest.mark.parametrize("rule, pattern", [
    ("markup from strings", UNSAFE),
    ("inline style or handler attributes", re.compile(r"<[^>]+\s(style|on\w+)\s*=", re.I)),
    ("inline scripts", re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)),
])
def test_nothing_the_csp_would_refuse(rule: str, pattern: re.Pattern[str]) -> None:
    found = [hit for path in web_files() for hit in lines_matching(pattern, path)]
    assert found == [], f"{rule}:\n" + "\n".join(found)
