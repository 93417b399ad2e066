"""/api/people: the manual face DB — people, enrolled faces from photos, and their deletes.

The DB is the source of truth (`iris.db.people`): every change to enrolled faces is followed by
one reload of the people gallery (`Runtime.reload_people`), which rebuilds itself from the DB.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import cv2
import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from iris.db import people as db
from iris.db.tables import FaceEmbedding, Person
from iris.models.face_types import FaceHit
from iris.serve.deps import RootDep, RuntimeDep, SessionDep
from iris.serve.errors import ServiceUnavailable
from iris.serve.lookup import get_or_404, require_confirmed, stored_jpeg
from iris.serve.runtime import Runtime
from iris.serve.schemas.common import BulkDelete, ClearAll, DeleteResult
from iris.serve.schemas.ids import IdPath
from iris.serve.schemas.people import (
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


def _public(person: Person, faces: int) -> PersonPublic:
    return PersonPublic.model_validate({**person.model_dump(), "num_faces": faces})


def _one(session: Session, person: Person) -> PersonPublic:
    assert person.id is not None
    return _public(person, db.face_counts(session, person_ids=[person.id]).get(person.id, 0))


async def reload_gallery(runtime: Runtime) -> None:
    """Have the people gallery rebuilt from the DB (once per change); the change stands anyway."""
    try:
        await runtime.reload_people()
    except ServiceUnavailable as exc:  # it rebuilds from the DB when it restarts
        log.warning("people gallery not reloaded: %s", exc.detail)


@router.get("", response_model=list[PersonPublic])
def list_people(session: SessionDep) -> Any:
    """List people with num_faces."""
    counts = db.face_counts(session)
    return [_public(p, counts.get(p.id or 0, 0)) for p in db.list_people(session)]


@router.post("", response_model=PersonPublic, status_code=status.HTTP_201_CREATED)
def create_person(body: PersonCreate, session: SessionDep) -> Any:
    """Create a face-less person."""
    return _one(session, db.create_person(session, name=body.name, notes=body.notes))


@router.post("/bulk-delete", response_model=DeleteResult)
async def bulk_delete_people(
    body: BulkDelete, session: SessionDep, root: RootDep, runtime: RuntimeDep
) -> Any:
    """Delete the given people (+ images)."""

    def work() -> int:
        deleted = db.delete_people(session, root=root, person_ids=body.ids)
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
    require_confirmed(body, "people")
    deleted = await run_in_threadpool(lambda: db.clear_people(session, root=root))
    if deleted:
        await reload_gallery(runtime)
    return DeleteResult(deleted=deleted)


@router.get("/{person_id}", response_model=PersonPublic)
def get_person(person_id: IdPath, session: SessionDep) -> Any:
    """Fetch one person."""
    return _one(session, get_or_404(session, Person, person_id))


@router.put("/{person_id}", response_model=PersonPublic)
def update_person(person_id: IdPath, body: PersonUpdate, session: SessionDep) -> Any:
    """Update name / notes."""
    person = get_or_404(session, Person, person_id)
    changes = body.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "name cannot be null.")
    return _one(session, db.update_person(session, person=person, changes=changes))


@router.delete("/{person_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_person(
    person_id: IdPath, session: SessionDep, root: RootDep, runtime: RuntimeDep
) -> Response:
    """Delete person + faces + images; rebuild index."""

    def work() -> None:
        get_or_404(session, Person, person_id)
        db.delete_people(session, root=root, person_ids=[person_id])
        session.commit()

    await run_in_threadpool(work)
    await reload_gallery(runtime)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _store_face(
    session: Session, root: Path, person_id: int, image: np.ndarray, face: FaceHit
) -> FaceEmbedding:
    """Re-encode the photo, then store it with the face's embedding."""
    get_or_404(session, Person, person_id)  # it may have gone while the recognizer ran
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "The photo could not be re-encoded.")
    return db.add_face(session, root=root, person_id=person_id, jpeg=jpeg.tobytes(),
                       embedding=face.embedding)


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
    await run_in_threadpool(get_or_404, session, Person, person_id)
    data = await read_image_upload(file)
    image = await run_in_threadpool(decode_image, data, ENROLL_MAX_SIDE)
    del data
    hits = sorted(await runtime.detect_faces(image), key=lambda hit: hit.area, reverse=True)
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
    get_or_404(session, Person, person_id)
    return [FacePublic.from_row(face) for face in db.person_faces(session, person_id=person_id)]


def get_face_or_404(session: Session, person_id: int, face_id: int) -> FaceEmbedding:
    """The person's face row, or 404 (`Person not found.` / `Face not found.`)."""
    get_or_404(session, Person, person_id)
    face = get_or_404(session, FaceEmbedding, face_id)
    if face.person_id != person_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Face not found.")
    return face


@router.get("/{person_id}/faces/{face_id}/image")
def face_image(
    person_id: IdPath, face_id: IdPath, request: Request, session: SessionDep, root: RootDep
) -> Response:
    """Serve the source enrollment photo."""
    face = get_face_or_404(session, person_id, face_id)
    return stored_jpeg(request, root, face.image_path, subject="The face's photo",
                       missing="This face has no stored photo.")


@router.delete("/{person_id}/faces/{face_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_face(
    person_id: IdPath, face_id: IdPath, session: SessionDep, root: RootDep, runtime: RuntimeDep
) -> Response:
    """Remove one embedding + image; rebuild index."""

    def work() -> None:
        db.delete_face(session, root=root, face=get_face_or_404(session, person_id, face_id))

    await run_in_threadpool(work)
    await reload_gallery(runtime)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
