"""One router per resource of the contract, collected in `api_router` (mounted at /api)."""

from fastapi import APIRouter

from iris.serve.routes import (  # noqa: F401  (health is mounted by the app itself)
    cameras,
    events,
    face_groups,
    health,
    hls,
    identities,
    live,
    live_mse,
    people,
    recordings,
    system,
)

api_router = APIRouter()
api_router.include_router(cameras.router, prefix="/cameras", tags=["cameras"])
api_router.include_router(events.router, prefix="/events", tags=["events"])
api_router.include_router(recordings.router, prefix="/recordings", tags=["recordings"])
api_router.include_router(identities.router, prefix="/identities", tags=["identities"])
api_router.include_router(people.router, prefix="/people", tags=["people"])
api_router.include_router(face_groups.router, prefix="/face-groups", tags=["face-groups"])
api_router.include_router(live.router, prefix="/live", tags=["live"])
api_router.include_router(live_mse.router, prefix="/live", tags=["live"])
api_router.include_router(hls.router, prefix="/live", tags=["live"])
api_router.include_router(system.router, prefix="/system", tags=["system"])
