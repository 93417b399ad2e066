"""/api/people: the manual face DB — people, enrolled faces from photos, and their deletes.

The DB is the source of truth: every change to enrolled faces is followed by one reload of the
IdentityManager's people gallery, which rebuilds itself from the DB.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any
from uuid import uuid4

import cv2
import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from sqlalchemy import delete, func, select, update
from sqlmodel import Session, col
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from iris.db.purge import CHUNK
from iris.db.tables import Event, FaceEmbedding, Identity, Person
from iris.db.types import utcnow, vector_to_blob
from iris.media import contained, remove_file, remove_tree
from iris.models.face_types import FaceHit
from iris.serve.deps import RootDep, RuntimeDep, SessionDep
from iris.serve.files import serve_stored
from iris.serve.runtime import Runtime
from iris.serve.schemas.ids import IdPath
from iris.serve.schemas.people import (
    BulkDelete,
    ClearAll,
    DeleteResult,
    EnrollResult,
    FacePublic,
    PersonCreate,
    PersonPublic,
    PersonUpdate,
)
from iris.serve.uploads import (
    PHOTO_UPLOAD_OPENAPI,
    decode_image,
    photo_upload,
    read_image_upload,
)

router = APIRouter()
log = logging.getLogger("iris.people")

ENROLL_MAX_SIDE = 1920
"""Photos are scaled to fit this before detection (SCRFD sees 640) and stored that size."""
RECOGNIZER_TIMEOUT_S = 60.0
RELOAD_TIMEOUT_S = 30.0
CONFIRM_REQUIRED = "Refusing to delete all people: send {\"confirm\": true} to confirm."


def faces_dir(root: Path, person_id: int) -> Path:
    """``<root>/faces/<id>``: the person's enrollment photos."""
    return root / "faces" / str(person_id)


def get_person_or_404(session: Session, person_id: int) -> Person:
    """The person row, or 404 `Person not found.`."""
    person = session.get(Person, person_id)
    if person is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Person not found.")
    return person


def _face_counts(session: Session, person_ids: list[int] | None = None) -> dict[int, int]:
    query = select(col(FaceEmbedding.person_id), func.count()).group_by(
        col(FaceEmbedding.person_id))
    if person_ids is not None:
        query = query.where(col(FaceEmbedding.person_id).in_(person_ids))
    return {pid: n for pid, n in session.execute(query).tuples()}


def _public(session: Session, person: Person) -> PersonPublic:
    assert person.id is not None
    count = _face_counts(session, [person.id]).get(person.id, 0)
    return PersonPublic.model_validate({**person.model_dump(), "num_faces": count})


async def reload_gallery(runtime: Runtime) -> None:
    """Have the IdentityManager rebuild its people gallery from the DB (once per change)."""
    handle = await run_in_threadpool(runtime.identity)
    if handle is None:  # not running: it builds the gallery from the DB when it starts
        return
    try:
        await asyncio.wait_for(handle.reload_people.remote(), RELOAD_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - the DB change stands; the actor reloads on restart
        log.warning("people gallery reload failed: %s", exc)


def delete_people(session: Session, root: Path, person_ids: Iterable[int]) -> int:
    """Delete people with their faces and photos; their events keep only `person_name`."""
    ids = list(dict.fromkeys(person_ids))
    deleted = 0
    for start in range(0, len(ids), CHUNK):
        chunk = list(session.execute(
            select(col(Person.id)).where(col(Person.id).in_(ids[start : start + CHUNK]))
        ).scalars())
        for path in session.execute(
            select(col(FaceEmbedding.image_path)).where(col(FaceEmbedding.person_id).in_(chunk))
        ).scalars():
            remove_file(root, path)
        for person_id in chunk:
            remove_tree(faces_dir(root, person_id))
        # Explicit rather than left to ON DELETE: the contract's detach must not depend on a
        # backend enforcing foreign keys.
        session.execute(update(Event).where(col(Event.person_id).in_(chunk))
                        .values(person_id=None))
        session.execute(update(Identity).where(col(Identity.person_id).in_(chunk))
                        .values(person_id=None))
        session.execute(delete(FaceEmbedding).where(col(FaceEmbedding.person_id).in_(chunk)))
        session.execute(delete(Person).where(col(Person.id).in_(chunk)))
        deleted += len(chunk)
    return deleted


@router.get("", response_model=list[PersonPublic])
def list_people(session: SessionDep) -> Any:
    """List people with num_faces."""
    counts = _face_counts(session)
    people = session.execute(
        select(Person).order_by(func.lower(col(Person.name)), col(Person.id))
    ).scalars()
    return [PersonPublic.model_validate({**p.model_dump(), "num_faces": counts.get(p.id, 0)})
            for p in people]


@router.post("", response_model=PersonPublic, status_code=status.HTTP_201_CREATED)
def create_person(body: PersonCreate, session: SessionDep) -> Any:
    """Create a face-less person."""
    person = Person(**body.model_dump())
    session.add(person)
    session.commit()
    return _public(session, person)


@router.post("/bulk-delete", response_model=DeleteResult)
async def bulk_delete_people(
    body: BulkDelete, session: SessionDep, root: RootDep, runtime: RuntimeDep
) -> Any:
    """Delete the given people (+ images)."""

    def work() -> int:
        deleted = delete_people(session, root, body.ids)
        session.commit()
        return deleted

    deleted = await run_in_threadpool(work)
    if deleted:
        await reload_gallery(runtime)
    return DeleteResult(deleted=deleted)


@router.post("/clear-all", response_model=DeleteResult)
async def clear_all_people(
    body: ClearAll, session: SessionDep, root: RootDep, runtime: RuntimeDep
) -> Any:
    """Delete ALL people (+ images) — requires confirm."""
    if not body.confirm:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, CONFIRM_REQUIRED)

    def work() -> int:
        ids = list(session.execute(select(col(Person.id))).scalars())
        deleted = 0
        for start in range(0, len(ids), CHUNK):  # one transaction per chunk, as for events
            deleted += delete_people(session, root, ids[start : start + CHUNK])
            session.commit()
        return deleted

    deleted = await run_in_threadpool(work)
    if deleted:
        await reload_gallery(runtime)
    return DeleteResult(deleted=deleted)


@router.get("/{person_id}", response_model=PersonPublic)
def get_person(person_id: IdPath, session: SessionDep) -> Any:
    """Fetch one person."""
    return _public(session, get_person_or_404(session, person_id))


@router.put("/{person_id}", response_model=PersonPublic)
def update_person(person_id: IdPath, body: PersonUpdate, session: SessionDep) -> Any:
    """Update name / notes."""
    person = get_person_or_404(session, person_id)
    changes = body.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "name cannot be null.")
    for key, value in changes.items():
        setattr(person, key, value)
    person.updated_at = utcnow()
    session.add(person)
    session.commit()
    return _public(session, person)


@router.delete("/{person_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_person(
    person_id: IdPath, session: SessionDep, root: RootDep, runtime: RuntimeDep
) -> Response:
    """Delete person + faces + images; rebuild index."""

    def work() -> None:
        get_person_or_404(session, person_id)
        delete_people(session, root, [person_id])
        session.commit()

    await run_in_threadpool(work)
    await reload_gallery(runtime)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def detect_faces(runtime: Runtime, image: np.ndarray) -> list[FaceHit]:
    """Every face in the image, largest first, from the Embedder; 503 when it cannot run."""
    handle = await run_in_threadpool(runtime.embedder)
    if handle is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            "Face recognizer unavailable: the Embedder is not running.")
    try:
        info = await asyncio.wait_for(handle.info.remote(), RECOGNIZER_TIMEOUT_S)
        if not info.get("faces_available"):
            reason = info.get("reason") or "no face models are loaded"
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                                f"Face recognizer unavailable: {reason}")
        hits = await asyncio.wait_for(handle.faces.remote(image), RECOGNIZER_TIMEOUT_S)
    except HTTPException:
        raise
    except Exception as exc:  # noqa: BLE001 - replica down, timeout or models failing
        log.warning("enrollment: face recognizer call failed: %s", exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            f"Face recognizer unavailable: {type(exc).__name__}") from exc
    return sorted(hits, key=lambda hit: hit.area, reverse=True)


def _store_face(
    session: Session, root: Path, person_id: int, image: np.ndarray, face: FaceHit
) -> FaceEmbedding:
    """Write the photo, then its embedding row; the photo goes again if the row fails."""
    get_person_or_404(session, person_id)  # it may have gone while the recognizer ran
    relative = f"faces/{person_id}/{uuid4().hex}.jpg"
    path = contained(root, relative)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "The photo could not be re-encoded.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(jpeg.tobytes())
    row = FaceEmbedding(person_id=person_id, vector=vector_to_blob(face.embedding),
                        image_path=relative, source="upload")
    try:
        session.add(row)
        session.commit()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return row


@router.post("/{person_id}/faces", response_model=EnrollResult,
             status_code=status.HTTP_201_CREATED, openapi_extra=PHOTO_UPLOAD_OPENAPI)
async def enroll_face(
    person_id: IdPath,
    file: Annotated[UploadFile, Depends(photo_upload)],
    session: SessionDep,
    root: RootDep,
    runtime: RuntimeDep,
) -> Any:
    """Enroll a face from an uploaded photo."""
    await run_in_threadpool(get_person_or_404, session, person_id)
    data = await read_image_upload(file)
    image = await run_in_threadpool(decode_image, data, ENROLL_MAX_SIDE)
    del data
    hits = await detect_faces(runtime, image)
    if not hits:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "No face detected in the photo: upload one with a clear face.")
    row = await run_in_threadpool(_store_face, session, root, person_id, image, hits[0])
    await reload_gallery(runtime)
    assert row.id is not None and row.image_path is not None
    return EnrollResult(embedding_id=row.id, faces_detected=len(hits), image_path=row.image_path)


@router.get("/{person_id}/faces", response_model=list[FacePublic])
def list_faces(person_id: IdPath, session: SessionDep) -> Any:
    """List a person's face embeddings."""
    get_person_or_404(session, person_id)
    faces = session.execute(
        select(FaceEmbedding).where(col(FaceEmbedding.person_id) == person_id)
        .order_by(col(FaceEmbedding.id))
    ).scalars()
    return [FacePublic.from_row(face) for face in faces]


def get_face_or_404(session: Session, person_id: int, face_id: int) -> FaceEmbedding:
    """The person's face row, or 404."""
    get_person_or_404(session, person_id)
    face = session.get(FaceEmbedding, face_id)
    if face is None or face.person_id != person_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Face not found.")
    return face


@router.get("/{person_id}/faces/{face_id}/image")
def face_image(
    person_id: IdPath, face_id: IdPath, request: Request, session: SessionDep, root: RootDep
) -> Response:
    """Serve the source enrollment photo."""
    face = get_face_or_404(session, person_id, face_id)
    if not face.image_path:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "This face has no stored photo.")
    return serve_stored(request.headers, root, face.image_path, "The face's photo",
                        "image/jpeg")


@router.delete("/{person_id}/faces/{face_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_face(
    person_id: IdPath, face_id: IdPath, session: SessionDep, root: RootDep, runtime: RuntimeDep
) -> Response:
    """Remove one embedding + image; rebuild index."""

    def work() -> None:
        face = get_face_or_404(session, person_id, face_id)
        remove_file(root, face.image_path)
        session.delete(face)
        session.commit()

    await run_in_threadpool(work)
    await reload_gallery(runtime)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
