"""Work over many ids a slice at a time: SQL `IN` lists stay short, transactions stay brief."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

CHUNK = 200
"""Ids per `IN (…)` list, and per transaction where a bulk delete commits as it goes."""


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """`items` without repeats, in their first order, `size` at a time.

    Raises:
        ValueError: `size` is not positive.
    """
    if size < 1:
        raise ValueError(f"chunk size must be positive, not {size}")
    unique = list(dict.fromkeys(items))
    for start in range(0, len(unique), size):
        yield unique[start : start + size]
