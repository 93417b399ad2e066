"""Object detector backends: the interface (`base`), the backends, and the loader (`registry`).

`registry.py` says how to add a backend.
"""

from iris.models.detectors.base import DetectorBackend, DetectorUnavailable
from iris.models.detectors.registry import BACKEND_KINDS, load_backend

__all__ = ["BACKEND_KINDS", "DetectorBackend", "DetectorUnavailable", "load_backend"]
