"""`iris.db.people`: deletes take photos and detach events and identities; faces and photos."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from iris.db import people
from iris.db.tables import Event, FaceEmbedding, Identity, Person
from tests.support.factories import camera_row, event_row, identity_row, person_row, unit_vector


def test_delete_people_detaches_and_takes_photos(session: Session, root: Path) -> None:
    camera = camera_row(session)
    ada, bo = person_row(session, name="Ada"), person_row(session, name="Bo")
    assert camera.id is not None and ada.id is not None and bo.id is not None
    face = people.add_face(session, root=root, person_id=ada.id, jpeg=b"jpeg",
                           embedding=unit_vector(1))
    event = event_row(session, camera_id=camera.id, person_id=ada.id, person_name="Ada")
    identity = identity_row(session, person_id=ada.id)
    session.commit()
    assert face.image_path is not None and (root / face.image_path).is_file()
    assert people.face_counts(session) == {ada.id: 1}

    assert people.delete_people(session, root=root, person_ids=[ada.id, ada.id, 999]) == 1
    session.commit()
    assert not (root / face.image_path).exists()
    assert not people.faces_dir(root, ada.id).exists()
    session.expire_all()
    detached, unlinked = session.get(Event, event.id), session.get(Identity, identity.id)
    assert detached is not None and (detached.person_id, detached.person_name) == (None, "Ada")
    assert unlinked is not None and unlinked.person_id is None
    assert [p.name for p in people.list_people(session)] == ["Bo"]


def test_a_face_row_that_fails_takes_its_photo_back(session: Session, root: Path) -> None:
    with pytest.raises(IntegrityError):  # the foreign key refuses a missing person
        people.add_face(session, root=root, person_id=999, jpeg=b"jpeg",
                        embedding=unit_vector(2))
    session.rollback()
    assert not any((root / "faces").rglob("*.jpg"))
    assert session.query(FaceEmbedding).count() == 0


def test_clear_people_in_chunks(session: Session, root: Path) -> None:
    for i in range(205):
        person_row(session, name=f"P{i:03}", faces=1 if i % 2 else 0)
    session.commit()
    assert people.clear_people(session, root=root) == 205
    assert session.query(Person).count() == 0
    assert session.query(FaceEmbedding).count() == 0


def test_people_list_by_name_ignoring_case(session: Session) -> None:
    for name in ("bo", "Ada", "cy"):
        people.create_person(session, name=name)
    assert [p.name for p in people.list_people(session)] == ["Ada", "bo", "cy"]
