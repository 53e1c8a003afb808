"""A re-sent photo is found through the indexed hash slices, however its near copy differs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from handlers.phash import NEAR, distance
from storage.models import phash_bands


@given(st.integers(0, 2**64 - 1), st.sets(st.integers(0, 63), max_size=NEAR))
def test_hashes_within_near_bits_share_an_indexed_slice(bits, flips):
    a = f"{bits:016x}"
    b = f"{bits ^ sum(1 << i for i in flips):016x}"
    assert distance(a, b) == len(flips)
    shared = [k for k, v in phash_bands(a).items() if phash_bands(b)[k] == v]
    assert shared, (a, b)


def test_no_hash_no_slices():
    assert set(phash_bands(None).values()) == {None}
