"""Zone, motion-mask and object-filter bodies of a camera (validated here, stored as JSON).

Polygons are normalised to the frame (``[[x, y], …]``, 0–1, 3–64 points, enclosing some area:
`iris.zones.polygons.check_polygon`). A bad value is a 422 whose ``loc`` names it, e.g.
``["body", "zones", 1, "polygon"]``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator

from iris.serve.schemas.common import Strict
from iris.zones.polygons import MAX_POINTS, MIN_POINTS, check_polygon

MAX_POLYGONS = 32
"""Most masks, and most zones, one camera may have."""

_LABEL = re.compile(r"^[a-z0-9][a-z0-9 _-]*$")


def _polygon(points: list[list[float]]) -> list[list[float]]:
    check_polygon(points)  # ValueError: pydantic words it as a 422 at this polygon
    return points


def _label(value: str) -> str:
    value = value.strip().lower()
    if not _LABEL.match(value):
        raise ValueError(f"invalid label {value!r}")
    return value


def _unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value.lower() in seen:
            raise ValueError(f"{value!r} appears twice (at {index})")
        seen.add(value.lower())
    return values


Coordinate = Annotated[float, Field(ge=0, le=1)]
PointBody = Annotated[list[Coordinate], Field(min_length=2, max_length=2)]
PolygonBody = Annotated[list[PointBody], Field(min_length=MIN_POINTS, max_length=MAX_POINTS),
                        AfterValidator(_polygon)]
ZoneName = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9 _-]+$")]
Label = Annotated[str, Field(min_length=1, max_length=50), AfterValidator(_label)]
Ratio = Annotated[float, Field(gt=0, le=1000)]
Fraction = Annotated[float, Field(ge=0, le=1)]


class ZoneBody(Strict):
    """A named area: objects whose box's bottom centre lies inside are in it."""

    name: ZoneName
    polygon: PolygonBody
    labels: list[Label] | None = Field(
        None, max_length=100, description="Only these labels count in the zone; null: all")
    loiter_seconds: float | None = Field(
        None, ge=0, le=3600,
        description="As a required zone: an object must stay this long inside to trigger")


def _unique_zones(zones: list[ZoneBody]) -> list[ZoneBody]:
    seen: dict[str, int] = {}
    for index, zone in enumerate(zones):
        key = zone.name.lower()
        if key in seen:
            raise ValueError(f"zone name {zone.name!r} is used by zones[{seen[key]}] "
                             f"and zones[{index}]")
        seen[key] = index
    return zones


class ObjectFilterBody(Strict):
    """What a detection of one label must be to count (areas: fraction of the frame)."""

    min_score: Fraction | None = None
    min_area: Fraction | None = None
    max_area: Fraction | None = None
    min_ratio: Ratio | None = Field(None, description="Narrowest box, width / height")
    max_ratio: Ratio | None = Field(None, description="Widest box, width / height")

    @model_validator(mode="after")
    def _ordered(self) -> ObjectFilterBody:
        for low, high in (("min_area", "max_area"), ("min_ratio", "max_ratio")):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"{low} must not exceed {high} ({lo} > {hi})")
        return self


MotionMasks = Annotated[list[PolygonBody], Field(
    max_length=MAX_POLYGONS, description="Polygons where motion is ignored")]
Zones = Annotated[list[ZoneBody], Field(max_length=MAX_POLYGONS), AfterValidator(_unique_zones)]
RequiredZones = Annotated[list[ZoneName], Field(
    max_length=MAX_POLYGONS, description="When set, objects trigger only after entering one"),
    AfterValidator(_unique)]
ObjectFilters = Annotated[dict[Label, ObjectFilterBody], Field(
    max_length=100, description="Per label: min_score, min/max_area, min/max_ratio")]

ZONE_FIELDS = ("motion_masks", "zones", "required_zones", "object_filters")
"""The camera fields these bodies make up (JSON columns of the camera row)."""


def unknown_required(zones: Sequence[Any], required: Sequence[str]) -> list[dict[str, Any]]:
    """Pydantic-style errors for each required zone that names none of `zones` (dicts or
    `ZoneBody`), ``loc`` ``("body", "required_zones", i)``."""
    names = {(z["name"] if isinstance(z, dict) else z.name) for z in zones}
    return [{"type": "value_error", "loc": ("body", "required_zones", i), "input": name,
             "msg": f"Value error, {name!r} is not one of this camera's zones"}
            for i, name in enumerate(required) if name not in names]
