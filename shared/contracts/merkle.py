"""Merkle tree hashing, inclusion and consistency proofs per RFC 9162 (the same hashing as RFC 6962)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

# Returns the hash of the aligned perfect subtree (level, index), covering leaves [index*2^level, (index+1)*2^level).
Perfect = Callable[[int, int], bytes]


def perfect_from(nodes: Mapping[tuple[int, int], bytes]) -> Perfect:
    """Returns a Perfect that looks nodes up in a mapping keyed by (level, index), e.g. one query's result."""
    return lambda level, index: nodes[level, index]


def leaf_hash(entry: bytes) -> bytes:
    """Returns the hash of a leaf entry: SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Returns the hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


@dataclass(frozen=True)
class CompactRange:
    """The roots of the perfect subtrees covering leaves [0, size), one per 1-bit of size, largest first."""

    size: int
    hashes: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError(f"a compact range cannot have negative size {self.size}")
        if len(self.hashes) != self.size.bit_count():
            want = self.size.bit_count()
            raise ValueError(f"a compact range of size {self.size} needs {want} hashes, not {len(self.hashes)}")
        if any(len(h) != HASH_SIZE for h in self.hashes):
            raise ValueError(f"every hash in a compact range must be {HASH_SIZE} bytes")

    @classmethod
    def empty(cls) -> CompactRange:
        """Returns the compact range of the empty tree."""
        return cls(0, ())

    @classmethod
    def from_json(cls, size: int, hashes: list[str]) -> CompactRange:
        """Returns the compact range stored as a size and its hashes in hex."""
        return cls(size, tuple(bytes.fromhex(h) for h in hashes))

    def to_json(self) -> list[str]:
        """Returns the hashes in hex, largest subtree first."""
        return [h.hex() for h in self.hashes]

    def root(self) -> bytes:
        """Returns the root hash of the tree of the first `size` leaves."""
        if not self.hashes:
            return EMPTY_ROOT
        root = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            root = node_hash(h, root)
        return root

    def append(self, leaf: bytes) -> tuple[CompactRange, list[tuple[int, int, bytes]]]:
        """Returns the range with one more leaf hash, and every perfect node (level, index, hash) it completed."""
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"a leaf hash must be {HASH_SIZE} bytes, not {len(leaf)}")
        hashes = list(self.hashes)
        level, index, node = 0, self.size, leaf
        completed = [(level, index, node)]
        # Each trailing 1-bit of the old size is a same-sized left sibling that the new node now completes.
        while index & 1:
            node = node_hash(hashes.pop(), node)
            level, index = level + 1, index >> 1
            completed.append((level, index, node))
        hashes.append(node)
        return CompactRange(self.size + 1, tuple(hashes)), completed


def _split(n: int) -> int:
    """Returns the largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree(start: int, end: int, perfect: Perfect) -> bytes:
    """Returns MTH(D[start:end]), asking `perfect` only for aligned perfect subtrees."""
    width = end - start
    if width & (width - 1) == 0:
        # Every range the RFC recursion reaches starts at a multiple of a power of two >= its width, so a
        # power-of-two range here is always aligned.
        level = width.bit_length() - 1
        return perfect(level, start >> level)
    mid = start + _split(width)
    return node_hash(_subtree(start, mid, perfect), _subtree(mid, end, perfect))


def root_hash(size: int, perfect: Perfect) -> bytes:
    """Returns the root hash of the tree of the first `size` leaves."""
    if size < 0:
        raise ValueError(f"a tree cannot have negative size {size}")
    return _subtree(0, size, perfect) if size else EMPTY_ROOT


def _path(index: int, start: int, end: int, perfect: Perfect) -> list[bytes]:
    """Returns PATH(index, D[start:end]), leaf side first."""
    if end - start == 1:
        return []
    mid = start + _split(end - start)
    if index < mid:
        return _path(index, start, mid, perfect) + [_subtree(mid, end, perfect)]
    return _path(index, mid, end, perfect) + [_subtree(start, mid, perfect)]


def inclusion_path(index: int, size: int, perfect: Perfect) -> list[bytes]:
    """Returns the RFC 9162 inclusion path of leaf `index` in the tree of `size` leaves."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    return _path(index, 0, size, perfect)


def _subproof(old_size: int, start: int, end: int, known: bool, perfect: Perfect) -> list[bytes]:
    """Returns SUBPROOF(old_size - start, D[start:end], known)."""
    if end == old_size:
        return [] if known else [_subtree(start, end, perfect)]
    mid = start + _split(end - start)
    if old_size <= mid:
        return _subproof(old_size, start, mid, known, perfect) + [_subtree(mid, end, perfect)]
    return _subproof(old_size, mid, end, False, perfect) + [_subtree(start, mid, perfect)]


def consistency_path(old_size: int, new_size: int, perfect: Perfect) -> list[bytes]:
    """Returns the RFC 9162 consistency proof from the tree of `old_size` leaves to that of `new_size`."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    return _subproof(old_size, 0, new_size, True, perfect)


def _asked_for(run: Callable[[Perfect], object]) -> set[tuple[int, int]]:
    """Returns the perfect nodes that `run` asks for."""
    asked: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> bytes:
        asked.add((level, index))
        return EMPTY_ROOT

    run(record)
    return asked


def nodes_for_root(size: int) -> set[tuple[int, int]]:
    """Returns the perfect nodes that `root_hash(size, ...)` asks for."""
    return _asked_for(lambda perfect: root_hash(size, perfect))


def nodes_for_inclusion(index: int, size: int) -> set[tuple[int, int]]:
    """Returns the perfect nodes that `inclusion_path(index, size, ...)` asks for."""
    return _asked_for(lambda perfect: inclusion_path(index, size, perfect))


def nodes_for_consistency(old_size: int, new_size: int) -> set[tuple[int, int]]:
    """Returns the perfect nodes that `consistency_path(old_size, new_size, ...)` asks for."""
    return _asked_for(lambda perfect: consistency_path(old_size, new_size, perfect))


def _are_hashes(values: Sequence[object]) -> bool:
    """Returns whether every value is a hash-sized bytes object."""
    return all(isinstance(v, bytes) and len(v) == HASH_SIZE for v in values)


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> bool:
    """Returns whether `path` proves the leaf hash `leaf` is leaf `index` of the tree of `size` leaves with `root`."""
    if not 0 <= index < size or not _are_hashes([leaf, root, *path]):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]) -> bool:
    """Returns whether `path` proves the tree (new_size, new_root) extends the tree (old_size, old_root)."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not path and old_root == new_root
    if old_size == 0:
        return not path
    if not path or not _are_hashes([old_root, new_root, *path]):
        return False
    proof = list(path)
    if old_size & (old_size - 1) == 0:
        proof.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0


def root_of(leaves: Sequence[bytes]) -> bytes:
    """Returns MTH over the given leaf hashes, computed directly from the RFC definition."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root_of(leaves[:k]), root_of(leaves[k:]))
