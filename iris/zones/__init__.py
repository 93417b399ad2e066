"""Zones, motion masks, object filters and stationary objects: the pure logic (no Ray, no I/O).

A camera's polygons are normalised to its frame (0–1, ``[[x, y], …]``), so they survive a
resolution change. `polygons` validates them and tests points; `masks` rasterises motion masks
at the motion gate's size; `filters` drops detections a camera's per-label filters refuse;
`membership` follows which zones each track entered (and how long it stayed); `stationary`
tells a parked car from a moving one.
"""

from iris.zones.filters import ObjectFilter, apply_filters
from iris.zones.masks import keep_mask
from iris.zones.membership import Zone, ZoneMonitor, ZoneVerdict
from iris.zones.polygons import Polygon, bottom_centre, check_polygon, contains
from iris.zones.stationary import StationaryWatch

__all__ = [
    "ObjectFilter",
    "Polygon",
    "StationaryWatch",
    "Zone",
    "ZoneMonitor",
    "ZoneVerdict",
    "apply_filters",
    "bottom_centre",
    "check_polygon",
    "contains",
    "keep_mask",
]
