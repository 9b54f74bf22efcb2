"""RFC 9162 Merkle hashing, proofs and verification, against the published Certificate Transparency vectors."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from shared.contracts.merkle import (
    EMPTY_ROOT,
    CompactRange,
    Perfect,
    consistency_path,
    inclusion_path,
    leaf_hash,
    node_hash,
    nodes_for_consistency,
    nodes_for_inclusion,
    nodes_for_root,
    perfect_from,
    root_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex

# The reference vectors are copied from transparency-dev/merkle, proof/verify_test.go (`leaves`, `roots`,
# `inclusionProofs`, `consistencyProofs`, `sha256SomeHash`), which carries them over from the original C++
# implementation, google/certificate-transparency, cpp/merkletree/merkle_tree_test.cc (`kInputs`,
# `kSHA256Roots`, `kSHA256Paths`, `kSHA256Proofs`). Both number inclusion leaves from 1; here they are
# 0-based indices. The (6, 7) consistency proof appears only in transparency-dev/merkle.
CT_INPUTS = [
    h(""),
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]
CT_EMPTY_ROOT = h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
CT_ROOTS = {
    1: h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    2: h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    3: h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    4: h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    5: h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    6: h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    7: h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    8: h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
}
CT_INCLUSION = [  # (index, size, path)
    (0, 1, []),
    (
        0,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        3,
        [
            h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        ],
    ),
    (
        1,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]
CT_CONSISTENCY = [  # (old_size, new_size, path)
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")

MAX_SIZE = 70

Probes = Iterator[tuple[str, tuple[Any, ...]]]


def build(leaves: Sequence[bytes]) -> tuple[CompactRange, dict[tuple[int, int], bytes]]:
    """Returns the compact range over the leaf hashes and the store of every perfect node it completed."""
    compact, store = CompactRange.empty(), {}
    for leaf in leaves:
        compact, completed = compact.append(leaf)
        for level, index, node in completed:
            store[(level, index)] = node
    return compact, store


CT_LEAVES = [leaf_hash(entry) for entry in CT_INPUTS]
_, CT_STORE = build(CT_LEAVES)
LEAVES = [leaf_hash(i.to_bytes(2, "big")) for i in range(MAX_SIZE)]
_, STORE = build(LEAVES)


def split(n: int) -> int:
    """Returns the largest power of two smaller than n, counted up rather than by bit tricks."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def reference_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """Returns PATH(index, D[n]) straight from RFC 9162 §2.1.3.1, hashing the leaves every time."""
    if len(leaves) == 1:
        return []
    k = split(len(leaves))
    if index < k:
        return reference_path(index, leaves[:k]) + [root_of(leaves[k:])]
    return reference_path(index - k, leaves[k:]) + [root_of(leaves[:k])]


def reference_proof(old_size: int, leaves: Sequence[bytes], known: bool = True) -> list[bytes]:
    """Returns SUBPROOF(old_size, D[n], known) straight from RFC 9162 §2.1.4.1."""
    if old_size == len(leaves):
        return [] if known else [root_of(leaves)]
    k = split(len(leaves))
    if old_size <= k:
        return reference_proof(old_size, leaves[:k], known) + [root_of(leaves[k:])]
    return reference_proof(old_size - k, leaves[k:], False) + [root_of(leaves[:k])]


def complete_at(size: int) -> set[tuple[int, int]]:
    """Returns the perfect nodes that exist once the tree has `size` leaves."""
    return {(level, index) for level, index in STORE if (index + 1) << level <= size}


def fetched(nodes: set[tuple[int, int]], store: dict[tuple[int, int], bytes]) -> Perfect:
    """Returns a lookup over only the named nodes, as a caller has after one database query."""
    return perfect_from({node: store[node] for node in nodes})


def flip(value: bytes, position: int) -> bytes:
    """Returns the value with one byte changed."""
    position %= len(value)
    return value[:position] + bytes([value[position] ^ 0x10]) + value[position + 1 :]


def bad_inclusions(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> Probes:
    """Yields named wrong arguments for verify_inclusion: each must be refused."""
    # An inclusion path is bound to the tree size through the root, not by itself (leaf 0's path in a tree of
    # 3 also fits a tree of 4), so wrong sizes are the ones that change the path's shape, as in the reference tests.
    yield "index - 1", (leaf, index - 1, size, path, root)
    yield "index + 1", (leaf, index + 1, size, path, root)
    yield "index ^ 2", (leaf, index ^ 2, size, path, root)
    yield "size * 2", (leaf, index, size * 2, path, root)
    yield "size // 2", (leaf, index, size // 2, path, root)
    yield "wrong leaf", (b"WrongLeaf", index, size, path, root)
    yield "flipped leaf", (flip(leaf, index), index, size, path, root)
    yield "flipped root", (leaf, index, size, path, flip(root, size))
    yield "empty root", (leaf, index, size, path, EMPTY_ROOT)
    yield "some root", (leaf, index, size, path, SOME_HASH)
    yield "trailing garbage", (leaf, index, size, [*path, b""], root)
    yield "trailing root", (leaf, index, size, [*path, root], root)
    yield "preceding garbage", (leaf, index, size, [b"", *path], root)
    yield "preceding root", (leaf, index, size, [root, *path], root)
    if path:
        yield "removed component", (leaf, index, size, path[:-1], root)
    if len(path) > 1:
        yield "inserted component", (leaf, index, size, [path[0], SOME_HASH, *path[1:]], root)
    for i, p in enumerate(path):
        yield f"flipped path[{i}]", (leaf, index, size, [*path[:i], flip(p, index + i), *path[i + 1 :]], root)


def bad_consistencies(old: int, new: int, old_root: bytes, new_root: bytes, path: list[bytes]) -> Probes:
    """Yields named wrong arguments for verify_consistency of a non-empty proof: each must be refused."""
    yield "old - 1", (old - 1, new, old_root, new_root, path)
    yield "old + 1", (old + 1, new, old_root, new_root, path)
    yield "old ^ 2", (old ^ 2, new, old_root, new_root, path)
    yield "new * 2", (old, new * 2, old_root, new_root, path)
    yield "new // 2", (old, new // 2, old_root, new_root, path)
    yield "wrong old root", (old, new, b"WrongRoot", new_root, path)
    yield "wrong new root", (old, new, old_root, b"WrongRoot", path)
    yield "flipped old root", (old, new, flip(old_root, new), new_root, path)
    yield "flipped new root", (old, new, old_root, flip(new_root, old), path)
    yield "swapped roots", (old, new, new_root, old_root, path)
    yield "empty proof", (old, new, old_root, new_root, [])
    yield "truncated proof", (old, new, old_root, new_root, path[:-1])
    yield "trailing garbage", (old, new, old_root, new_root, [*path, b""])
    yield "trailing old root", (old, new, old_root, new_root, [*path, old_root])
    yield "trailing new root", (old, new, old_root, new_root, [*path, new_root])
    yield "preceding garbage", (old, new, old_root, new_root, [b"", *path])
    yield "preceding old root", (old, new, old_root, new_root, [old_root, *path])
    yield "preceding new root", (old, new, old_root, new_root, [new_root, *path])
    yield "preceding path[0]", (old, new, old_root, new_root, [path[0], *path])
    for i, p in enumerate(path):
        yield f"flipped path[{i}]", (old, new, old_root, new_root, [*path[:i], flip(p, old + i), *path[i + 1 :]])


def accepted(verifier: Callable[..., bool], probes: Probes) -> list[str]:
    """Returns the names of the wrong arguments the verifier accepts."""
    return [name for name, args in probes if verifier(*args)]


def test_hashing_primitives() -> None:
    assert EMPTY_ROOT == CT_EMPTY_ROOT
    assert leaf_hash(b"") == CT_ROOTS[1]
    assert node_hash(CT_LEAVES[0], CT_LEAVES[1]) == CT_ROOTS[2]


@pytest.mark.parametrize("size", range(0, 9))
def test_published_roots(size: int) -> None:
    want = CT_ROOTS.get(size, CT_EMPTY_ROOT)
    compact, _ = build(CT_LEAVES[:size])
    assert root_of(CT_LEAVES[:size]) == want
    assert compact.root() == want
    assert root_hash(size, fetched(nodes_for_root(size), CT_STORE)) == want


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_published_inclusion_proofs(index: int, size: int, path: list[bytes]) -> None:
    leaf, root = CT_LEAVES[index], CT_ROOTS[size]
    assert inclusion_path(index, size, fetched(nodes_for_inclusion(index, size), CT_STORE)) == path
    assert verify_inclusion(leaf, index, size, path, root)
    assert accepted(verify_inclusion, bad_inclusions(leaf, index, size, path, root)) == []
    for i, p in enumerate(path):
        for position in range(len(p)):
            assert not verify_inclusion(leaf, index, size, [*path[:i], flip(p, position), *path[i + 1 :]], root)


@pytest.mark.parametrize(("old", "new", "path"), CT_CONSISTENCY)
def test_published_consistency_proofs(old: int, new: int, path: list[bytes]) -> None:
    old_root, new_root = CT_ROOTS[old], CT_ROOTS[new]
    assert consistency_path(old, new, fetched(nodes_for_consistency(old, new), CT_STORE)) == path
    assert verify_consistency(old, new, old_root, new_root, path)
    if path:
        assert accepted(verify_consistency, bad_consistencies(old, new, old_root, new_root, path)) == []
    for i, p in enumerate(path):
        for position in range(len(p)):
            assert not verify_consistency(old, new, old_root, new_root, [*path[:i], flip(p, position), *path[i + 1 :]])


DONT_CARE_1, DONT_CARE_2 = b"don't care 1", b"don't care 2"


# The edge cases of transparency-dev/merkle, proof/verify_test.go, TestVerifyConsistency.
@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root", "path", "valid"),
    [
        (0, 0, DONT_CARE_1, DONT_CARE_2, [], False),
        (1, 1, DONT_CARE_1, DONT_CARE_2, [], False),
        (0, 0, DONT_CARE_1, DONT_CARE_1, [], True),
        (0, 1, DONT_CARE_1, DONT_CARE_2, [], True),
        (1, 1, DONT_CARE_2, DONT_CARE_2, [], True),
        (1, 0, DONT_CARE_1, DONT_CARE_2, [], False),
        (2, 1, DONT_CARE_1, DONT_CARE_2, [], False),
        (1, 2, DONT_CARE_1, DONT_CARE_2, [], False),
        (0, 0, CT_EMPTY_ROOT, DONT_CARE_2, [], False),
        (1, 1, CT_EMPTY_ROOT, DONT_CARE_2, [], False),
        (0, 0, CT_EMPTY_ROOT, CT_EMPTY_ROOT, [CT_EMPTY_ROOT], False),
        (0, 1, CT_EMPTY_ROOT, CT_EMPTY_ROOT, [CT_EMPTY_ROOT], False),
        (1, 1, CT_EMPTY_ROOT, CT_EMPTY_ROOT, [CT_EMPTY_ROOT], False),
        (-1, 1, CT_EMPTY_ROOT, CT_EMPTY_ROOT, [], False),
        (3, 7, CT_ROOTS[3], CT_ROOTS[7], [b"short"], False),
    ],
)
def test_consistency_edge_cases(old: int, new: int, old_root: bytes, new_root: bytes, path: list[bytes], valid: bool) -> None:
    assert verify_consistency(old, new, old_root, new_root, path) is valid


# The malformed probes of transparency-dev/merkle, proof/verify_test.go, TestVerifyInclusion, plus negative numbers.
@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1), (-1, 1), (0, -1)])
@pytest.mark.parametrize(("leaf", "root"), [(SOME_HASH, b""), (b"", CT_EMPTY_ROOT), (SOME_HASH, CT_EMPTY_ROOT)])
def test_inclusion_refuses_malformed_input(index: int, size: int, leaf: bytes, root: bytes) -> None:
    assert not verify_inclusion(leaf, index, size, [], root)


@pytest.mark.parametrize(
    ("leaf", "root", "valid"),
    [(CT_LEAVES[3], CT_LEAVES[3], True), (CT_LEAVES[3], b"", False), (b"", CT_LEAVES[3], False), (b"", b"", False)],
)
def test_inclusion_in_a_single_leaf_tree(leaf: bytes, root: bytes, valid: bool) -> None:
    assert verify_inclusion(leaf, 0, 1, [], root) is valid


@pytest.mark.parametrize("size", range(0, MAX_SIZE))
def test_compact_range_append_yields_exactly_the_completed_nodes(size: int) -> None:
    before, _ = build(LEAVES[:size])
    after, completed = before.append(LEAVES[size])
    new_size = size + 1
    leaves = LEAVES[:new_size]
    want = []
    level = 0
    while new_size % (1 << level) == 0:
        index = (new_size >> level) - 1
        want.append((level, index, root_of(leaves[index << level : (index + 1) << level])))
        level += 1
    assert completed == want
    assert completed[0] == (0, size, leaves[size])
    assert after.size == new_size
    assert after.root() == root_of(leaves)
    roots, start = [], 0
    for bit in reversed(range(new_size.bit_length())):
        if new_size >> bit & 1:
            roots.append(root_of(leaves[start : start + (1 << bit)]))
            start += 1 << bit
    assert after.hashes == tuple(roots)


def test_compact_range_json_round_trip() -> None:
    compact, _ = build(LEAVES[:13])
    restored = CompactRange.from_json(13, compact.to_json())
    assert restored == compact
    assert all(isinstance(x, str) and len(x) == 64 for x in compact.to_json())
    assert CompactRange.empty().root() == EMPTY_ROOT
    assert CompactRange.from_json(0, []) == CompactRange.empty()


@pytest.mark.parametrize(
    ("size", "hashes"),
    [(-1, []), (3, [LEAVES[0].hex()]), (1, [LEAVES[0].hex(), LEAVES[1].hex()]), (1, ["abcd"]), (1, ["zz" * 32])],
)
def test_compact_range_refuses_inconsistent_state(size: int, hashes: list[str]) -> None:
    with pytest.raises(ValueError):
        CompactRange.from_json(size, hashes)


@pytest.mark.parametrize("size", range(0, MAX_SIZE + 1))
def test_root_hash_uses_only_complete_perfect_nodes(size: int) -> None:
    nodes = nodes_for_root(size)
    assert nodes <= complete_at(size)
    assert len(nodes) == size.bit_count()
    assert root_hash(size, fetched(nodes, STORE)) == root_of(LEAVES[:size])


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1))
def test_every_inclusion_proof_verifies_and_every_tampering_fails(size: int) -> None:
    root = root_of(LEAVES[:size])
    for index in range(size):
        nodes = nodes_for_inclusion(index, size)
        assert nodes <= complete_at(size)
        path = inclusion_path(index, size, fetched(nodes, STORE))
        assert path == reference_path(index, LEAVES[:size])
        leaf = LEAVES[index]
        assert verify_inclusion(leaf, index, size, path, root)
        wrong = bad_inclusions(leaf, index, size, path, root)
        assert accepted(verify_inclusion, wrong) == [], f"leaf {index} of {size}"


@pytest.mark.parametrize("new", range(1, MAX_SIZE + 1))
def test_every_consistency_proof_verifies_and_every_tampering_fails(new: int) -> None:
    new_root = root_of(LEAVES[:new])
    for old in range(0, new + 1):
        old_root = root_of(LEAVES[:old])
        nodes = nodes_for_consistency(old, new)
        assert nodes <= complete_at(new)
        path = consistency_path(old, new, fetched(nodes, STORE))
        assert path == (reference_proof(old, LEAVES[:new]) if old else [])
        assert verify_consistency(old, new, old_root, new_root, path)
        if path:
            wrong = bad_consistencies(old, new, old_root, new_root, path)
            assert accepted(verify_consistency, wrong) == [], f"{old} -> {new}"


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 1), (-1, 3), (7, 7)])
def test_inclusion_path_refuses_a_leaf_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(ValueError):
        inclusion_path(index, size, perfect_from(STORE))


@pytest.mark.parametrize(("old", "new"), [(5, 4), (-1, 3), (1, 0)])
def test_consistency_path_refuses_a_shrinking_tree(old: int, new: int) -> None:
    with pytest.raises(ValueError):
        consistency_path(old, new, perfect_from(STORE))
