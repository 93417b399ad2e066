"""The FastAPI application: routers under the contract's prefixes, then the SPA at `/`.

Plain FastAPI, no Ray: `build_app` (iris/serve/app.py) wraps it in the Serve ingress with a
`RayRuntime`; tests can build it with any `Runtime`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.responses import Response

from iris import __version__
from iris.db.engine import make_engine
from iris.serve.deps import require_auth
from iris.serve.errors import CameraNotRunning, ServiceUnavailable
from iris.serve.routes import api_router, docs, health, keys
from iris.serve.runtime import OfflineRuntime, Runtime
from iris.serve.security import install as install_guards
from iris.settings import Settings

WEB_DIR = Path(__file__).resolve().parents[2] / "web"


class NoCacheStaticFiles(StaticFiles):
    """The SPA's files, revalidated on every load so an upgrade never runs stale modules."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


async def _service_unavailable(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceUnavailable)
    headers = {"Retry-After": exc.retry_after} if exc.retry_after else None
    return JSONResponse({"detail": exc.detail}, status_code=503, headers=headers)


async def _camera_not_running(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, CameraNotRunning)
    return JSONResponse({"detail": exc.detail}, status_code=409)


def create_api(settings: Settings, runtime: Runtime | None = None, *,
               engine: Engine | None = None) -> FastAPI:
    """Build the REST API + SPA for one Iris instance.

    Args:
        settings: the instance's settings.
        runtime: the running system; default an `OfflineRuntime` (no Ray).
        engine: the database; default one made from the settings.
    """
    # The schema is served by an authenticated route (system.py): /health stays the only open one.
    app = FastAPI(title="Iris", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.settings = settings
    app.state.engine = engine if engine is not None else make_engine(
        settings.resolved_database_url)
    app.state.runtime = runtime if runtime is not None else OfflineRuntime(
        app.state.engine, settings.root)
    settings.root.mkdir(parents=True, exist_ok=True)

    install_guards(app, settings)
    # A runtime's refusals are answers, not errors: every route maps them alike.
    app.add_exception_handler(ServiceUnavailable, _service_unavailable)
    app.add_exception_handler(CameraNotRunning, _camera_not_running)
    app.include_router(health.router)
    app.include_router(api_router, prefix="/api", dependencies=[Depends(require_auth)])
    app.include_router(keys.router, prefix="/api/system/keys", tags=["system"],
                       dependencies=[Depends(require_auth)])
    app.include_router(docs.router, prefix="/api/docs", dependencies=[Depends(require_auth)])

    @app.get("/api/openapi.json", include_in_schema=False, dependencies=[Depends(require_auth)])
    def openapi() -> dict[str, Any]:
        return app.openapi()

    if WEB_DIR.is_dir():
        app.mount("/", NoCacheStaticFiles(directory=WEB_DIR, html=True), name="web")
    return app
