"""Evidence's Merkle log on a SQLite file: leaves appended many at a time make the same log as one at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from services.evidence import log
from services.evidence.models import TABLES
from shared.contracts import merkle
from shared.contracts.report import canonical
from shared.plumbing.db import Database, create_tables

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
SIZES = (1, 2, 3, 5, 8, 13)


def _leaves(count: int) -> list[log.Leaf]:
    return [log.Leaf(entry={"type": "event", "n": n}, kind="event", ref=f"e-{n}", notice_id=f"n-{n % 3}", recorded_at=NOW) for n in range(count)]


async def _database(path: Path) -> Database:
    db = Database(f"sqlite:///{path}")
    await create_tables(db.engine, TABLES)
    return db


async def test_a_batch_appended_at_once_has_the_roots_and_proofs_of_its_leaves_appended_one_by_one(tmp_path: Path) -> None:
    one, many = await _database(tmp_path / "one.db"), await _database(tmp_path / "many.db")
    leaves = _leaves(sum(SIZES))
    try:
        for leaf in leaves:
            async with one.transaction() as session:
                await log.append(session, leaf.entry, kind=leaf.kind, ref=leaf.ref, notice_id=leaf.notice_id, now=leaf.recorded_at)
        start = 0
        for size in SIZES:
            async with many.transaction() as session:
                assert await log.append_all(session, leaves[start : start + size]) == start
            start += size
        total = len(leaves)
        hashes = [merkle.leaf_hash(canonical(leaf.entry)) for leaf in leaves]
        async with one.sessions() as a, many.sessions() as b:
            assert await log.size(a) == await log.size(b) == total
            for tree_size in range(1, total + 1):
                root = await log.root(b, tree_size)
                assert root == await log.root(a, tree_size) == merkle.root_of(hashes[:tree_size])
                proofs = await log.inclusions(b, range(tree_size), tree_size)
                assert proofs == await log.inclusions(a, range(tree_size), tree_size)
                assert all(merkle.verify_inclusion(hashes[i], i, tree_size, proofs[i], root) for i in range(tree_size))
            assert await log.consistency(a, 7, total) == await log.consistency(b, 7, total)
            entries = await log.entries(b, range(total))
        assert [bytes.fromhex(entries[i].leaf_hash) for i in range(total)] == hashes
    finally:
        await one.dispose()
        await many.dispose()
