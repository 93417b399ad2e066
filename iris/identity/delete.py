"""Delete identities recursively: rows, crops, solo events (shared events are only unlinked)."""

from __future__ import annotations

from iris.db.purge import delete_identities
from iris.identity import store
from iris.identity.change import Change
from iris.identity.types import OpResult


def remove_identities(change: Change, identity_ids: list[int]) -> OpResult:
    """Delete the identities that exist among ``identity_ids``; the rest are reported missing."""
    session = change.session
    present = store.existing_identity_ids(session, identity_ids)
    change.galleries.remove("face", store.exemplar_ids(session, "face", present))
    change.galleries.remove("look", store.exemplar_ids(session, "look", present))
    delete_identities(session, change.files.root, present)
    missing = [i for i in identity_ids if i not in set(present)]
    detail = f"deleted {len(present)} identities"
    if missing:
        detail += f"; not found: {', '.join(map(str, missing))}"
    return OpResult(bool(present), None, present, 0, detail)
