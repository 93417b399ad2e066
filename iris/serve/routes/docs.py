"""/api/docs: the OpenAPI UI, behind the same credentials as the API, with nothing from a CDN.

FastAPI's own docs page loads Swagger UI from a CDN, which the CSP (`default-src 'self'`) and
the offline rule forbid. Here the page is ours (no inline script or style), its Swagger UI
files come from the installed `swagger-ui-bundle-v2` package (Swagger UI 5, which reads the
OpenAPI 3.1 FastAPI writes; 4.x cannot), and its starter is the SPA's `js/api-docs.js`,
which sends the tab's key with every call. Without the package the same
starter lists the operations from /api/openapi.json itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse

router = APIRouter()

#: The Swagger UI files the page loads (nothing else of the package is served).
ASSETS = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript"}
PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Iris API</title>
  <link rel="icon" href="../favicon.svg" type="image/svg+xml">
{head}  <link rel="stylesheet" href="../css/api-docs.css">
</head>
<body>
  <p class="iris-docs-back"><a href="../">&larr; Back to Iris</a></p>
  <div id="swagger-ui" data-spec="openapi.json"><p>Loading the API description&hellip;</p></div>
{scripts}  <script type="module" src="../js/api-docs.js"></script>
</body>
</html>
"""


def swagger_ui_dir() -> Path | None:
    """Where the installed swagger-ui-bundle-v2 keeps Swagger UI, or None without it."""
    try:
        import swagger_ui_bundle
    except ImportError:
        return None
    folder = Path(str(swagger_ui_bundle.swagger_ui_path))
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def docs_page(with_swagger: bool) -> str:
    """The page, loading Swagger UI's files when they are installed."""
    head = '  <link rel="stylesheet" href="docs/swagger-ui.css">\n' if with_swagger else ""
    scripts = '  <script src="docs/swagger-ui-bundle.js"></script>\n' if with_swagger else ""
    return PAGE.format(head=head, scripts=scripts)


@router.get("", response_class=HTMLResponse, tags=["system"])
def api_docs() -> HTMLResponse:
    """The OpenAPI UI of this server (an HTML page)."""
    return HTMLResponse(docs_page(swagger_ui_dir() is not None),
                        headers={"Cache-Control": "no-cache"})


@router.get("/{asset}", include_in_schema=False)
def api_docs_asset(asset: Annotated[str, PathParam(max_length=64)]) -> FileResponse:
    """One of Swagger UI's files, from the installed package."""
    folder = swagger_ui_dir()
    if asset not in ASSETS or folder is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such file of the API docs.")
    return FileResponse(folder / asset, media_type=ASSETS[asset],
                        headers={"Cache-Control": "private, max-age=86400"})
