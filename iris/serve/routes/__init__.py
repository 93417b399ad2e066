"""One router per resource of the contract, collected in `api_router` (mounted at /api)."""

from fastapi import APIRouter

from iris.serve.routes import cameras, health, system  # noqa: F401  (health: app-level)

api_router = APIRouter()
api_router.include_router(cameras.router, prefix="/cameras", tags=["cameras"])
api_router.include_router(system.router, prefix="/system", tags=["system"])
