"""`chunks`: repeats dropped in first order, slices of at most `size`."""

from __future__ import annotations

import pytest

from iris.db.chunks import CHUNK, chunks


@pytest.mark.parametrize(("items", "size", "expected"), [
    ([], 3, []),
    ([1, 2, 3], 3, [[1, 2, 3]]),
    ([1, 2, 3, 4], 3, [[1, 2, 3], [4]]),
    ([3, 1, 3, 2, 1], 2, [[3, 1], [2]]),
    (iter(range(5)), 2, [[0, 1], [2, 3], [4]]),
])
def test_chunks(items: list[int], size: int, expected: list[list[int]]) -> None:
    assert list(chunks(items, size)) == expected


def test_default_size_and_bad_sizes() -> None:
    assert [len(c) for c in chunks(range(2 * CHUNK + 1))] == [CHUNK, CHUNK, 1]
    with pytest.raises(ValueError, match="positive"):
        list(chunks([1], 0))
