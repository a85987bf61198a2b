"""The visited states as SPIN's hash compaction keeps them: a table of 64-bit fingerprints.

A stateful search stores, per state, a 64-bit fingerprint of its key and the sleep set it
was explored with (a mask of threads; most states are first reached with some asleep). A
``dict`` of Python ints takes about 100 bytes for that; :class:`FingerprintSet` takes, per
slot of an open-addressed table (linear probing, one to two thirds full), 8 bytes for the
fingerprint and 1 to 8 for the mask (as many as the threads need): 14 to 27 bytes a state
with up to 8 threads, at most 48 with 64; with more than 64 the masks go in a ``dict``.

It answers as the ``dict`` it replaces: ``get(fingerprint)`` is None for a state not
stored, else its mask; ``table[fingerprint] = mask`` stores or updates one.

>>> table = FingerprintSet(threads=3)
>>> table[12345] = 0
>>> table[-7] = 0b101
>>> table.get(12345), table.get(-7), table.get(99), len(table)
(0, 5, None, 2)
>>> table[-7] = 0
>>> table.get(-7), len(table)
(0, 2)
>>> for n in range(1, 5000):
...     table[n * 0x9E3779B97F4A7C15 % 2**63] = n & 3
>>> len(table), table.get(77 * 0x9E3779B97F4A7C15 % 2**63), table.get(5001 * 0x9E3779B97F4A7C15 % 2**63)
(5001, 1, None)
"""

from __future__ import annotations

import sys
from array import array

_EMPTY = 0  # a slot never holds 0: the fingerprint 0 is stored as _ZERO
_ZERO = -(2 ** 63)  # what the fingerprint 0 is stored as (the two collide, as any equal fingerprints do)


class FingerprintSet:
    """64-bit fingerprints, each with a small mask (see the module docstring)."""

    __slots__ = ("at", "count", "kind", "limit", "masks", "probed", "slots", "spread")

    def __init__(self, threads: int = 64, capacity: int = 1 << 12) -> None:
        size = 1 << max(4, (capacity - 1).bit_length())
        # the narrowest array of masks that holds one bit per thread; a dict beyond 64
        self.kind = next((code for code in "BHLQ" if array(code).itemsize * 8 >= threads), None)
        self.slots = array("q", bytes(8 * size))
        self.masks = self._masks(size)  # per slot, the mask of its fingerprint
        self.spread = size - 1  # the index of a fingerprint's first slot: its low bits
        self.limit = size * 2 // 3
        self.count = 0
        self.probed, self.at = None, 0  # the fingerprint ``get`` looked up last, and its slot

    @classmethod
    def of(cls, stored: dict, threads: int) -> FingerprintSet:
        """A table of the fingerprints and masks of the dict ``stored``, a third of it free."""
        table = cls(threads, capacity=len(stored) * 2)
        for fingerprint, mask in stored.items():
            table[fingerprint] = mask
        return table

    def _masks(self, size: int):
        return {} if self.kind is None else array(self.kind, bytes(array(self.kind).itemsize * size))

    def __len__(self) -> int:
        return self.count

    def _slot(self, fingerprint: int) -> int:
        """The slot that holds ``fingerprint``, else the empty one where it would go."""
        slots, spread = self.slots, self.spread
        i = fingerprint & spread
        while True:
            held = slots[i]
            if held == fingerprint or not held:  # not held: _EMPTY
                return i
            i = (i + 1) & spread

    def get(self, fingerprint: int, default=None):
        fingerprint = fingerprint or _ZERO
        self.probed = fingerprint
        self.at = i = self._slot(fingerprint)
        if not self.slots[i]:
            return default
        return self.masks[i] if self.kind is not None else self.masks.get(i, 0)

    def __setitem__(self, fingerprint: int, mask: int) -> None:
        fingerprint = fingerprint or _ZERO
        # a search stores a state just after looking it up: the slot is known then
        i = self.at if fingerprint == self.probed else self._slot(fingerprint)
        if not self.slots[i]:
            self.slots[i] = fingerprint
            self.count += 1
            self.probed = None  # another fingerprint looked up may have had this slot
        if self.kind is not None:
            self.masks[i] = mask
        elif mask:
            self.masks[i] = mask
        else:
            self.masks.pop(i, None)
        if self.count > self.limit:
            self._grow()

    def _grow(self) -> None:
        old, old_masks = self.slots, self.masks
        size = 2 * len(old)
        slots, masks = array("q", bytes(8 * size)), self._masks(size)
        spread = size - 1
        if self.kind is None:
            old_masks = [old_masks.get(n, 0) for n in range(len(old))]
        for fingerprint, mask in zip(old, old_masks):
            if fingerprint:  # not _EMPTY
                i = fingerprint & spread
                while slots[i]:
                    i = (i + 1) & spread
                slots[i] = fingerprint
                if mask:
                    masks[i] = mask
        self.slots, self.masks, self.spread, self.limit = slots, masks, spread, size * 2 // 3
        self.probed = None  # the slots moved

    def __iter__(self):
        """The fingerprints stored (0 as 0 again)."""
        for fingerprint in self.slots:
            if fingerprint != _EMPTY:
                yield 0 if fingerprint == _ZERO else fingerprint

    @property
    def nbytes(self) -> int:
        """What the table takes: its slots and the masks kept beside them."""
        masks = sys.getsizeof(self.masks)
        if self.kind is None:
            masks += 64 * len(self.masks)  # two ints an entry, roughly
        return sys.getsizeof(self.slots) + masks
