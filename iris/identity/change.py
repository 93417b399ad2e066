"""One transaction of the identity layer: the rows, the crop files and the gallery updates."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from iris.identity.files import FileJournal
from iris.identity.galleries import GalleryChanges
from iris.identity.types import IdentityConfig


@dataclass
class Change:
    """What one identity transaction touches; `IdentityCore.run` opens and finishes it.

    Attributes:
        session: the open transaction.
        files: crops written or moved (undone if the transaction fails); ``files.root`` is
            the data root.
        config: thresholds and limits.
        galleries: gallery updates, applied after the commit.
    """

    session: Session
    files: FileJournal
    config: IdentityConfig
    galleries: GalleryChanges = field(default_factory=GalleryChanges)
