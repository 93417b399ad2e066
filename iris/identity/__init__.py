"""The identity layer: observations -> identities across cameras, corrections, face groups.

`IdentityCore` (core.py) files observations (`iris.types.Observation`) under identities and
runs the corrections (merge.py, split.py, delete.py, maintenance.py) through one transaction
runner; galleries.py holds its FAISS galleries, store.py its SQL. face_clusters.py groups
captured faces for the face-groups API. No Ray here: `iris.actors.identity` is the shell.
"""

from iris.identity.core import IdentityCore
from iris.identity.face_clusters import (
    MAX_SAMPLES,
    ClusterParams,
    FaceGroup,
    FaceSamples,
    cluster_faces,
)
from iris.identity.types import Assignment, IdentityConfig, IdentityNotFound, OpResult

__all__ = [
    "MAX_SAMPLES",
    "Assignment",
    "ClusterParams",
    "FaceGroup",
    "FaceSamples",
    "IdentityConfig",
    "IdentityCore",
    "IdentityNotFound",
    "OpResult",
    "cluster_faces",
]
