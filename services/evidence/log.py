"""The append-only Merkle log in the database: leaves appended under one lock, many at a time, roots and proofs from stored perfect subtrees."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Table, bindparam, func, insert, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.evidence.models import EvidenceCheckpoint, EvidenceLogEntry, EvidenceLogHead, EvidenceLogNode
from services.evidence.signer import Signer
from shared.contracts import merkle
from shared.contracts.report import canonical
from shared.plumbing.db import core_rows, insert_ignoring_duplicates, table_of

HEAD = table_of(EvidenceLogHead)
ENTRY = table_of(EvidenceLogEntry)
NODE = table_of(EvidenceLogNode)


@dataclass(frozen=True)
class Leaf:
    """An entry to append (hashed as canonical JSON), what it stands for and when it was recorded."""

    entry: dict[str, Any]
    kind: str
    ref: str
    notice_id: str
    recorded_at: datetime


# The statements every append runs, built once: each upload and each consumed batch appends, and a statement built
# anew generates its cache key anew on every run.
LOCKED_HEAD = select(HEAD.c.size, HEAD.c.frontier).where(HEAD.c.id == 1).with_for_update()
MOVED_HEAD = update(HEAD).where(HEAD.c.id == 1).values(size=bindparam("new_size"), frontier=bindparam("new_frontier", type_=HEAD.c.frontier.type))
NEW_ENTRIES = insert(ENTRY)
NEW_NODES = insert(NODE)
ENTRY_COLUMNS = ("leaf_index", "kind", "ref", "notice_id", "entry", "leaf_hash", "recorded_at")
NODE_COLUMNS = ("level", "index", "hash")


def _unnested(table: Table, columns: Sequence[str]) -> Insert:
    # Each column's values as one array: the same statement for one row or a whole batch, well under any limit on parameters.
    arrays = [bindparam(column, type_=ARRAY(table.c[column].type)) for column in columns]
    return insert(table).from_select(columns, func.unnest(*arrays).table_valued(*columns).render_derived().select())


# On PostgreSQL the entries, their nodes and the new head go in one round trip, which the head's lock is held across.
APPENDED = MOVED_HEAD.add_cte(_unnested(ENTRY, ENTRY_COLUMNS).cte("new_entries"), _unnested(NODE, NODE_COLUMNS).cte("new_nodes"))


async def _head(session: AsyncSession) -> merkle.CompactRange:
    # Every append locks this row until its transaction ends: one writer at a time, so indices have no gaps.
    # Read and written with Core, never through the session's identity map, so a second append in the same
    # transaction never sees a head object the first one left stale.
    rows = await core_rows(session, LOCKED_HEAD)
    if not rows:
        await session.exec(insert_ignoring_duplicates(session, HEAD).values(id=1, size=0, frontier=[]))
        rows = await core_rows(session, LOCKED_HEAD)
    return merkle.CompactRange.from_json(rows[0].size, rows[0].frontier)


async def append_all(session: AsyncSession, leaves: Sequence[Leaf]) -> int:
    """Appends the entries in order in this transaction with one head read and one write of entries, nodes and head (three statements on SQLite); returns the first one's leaf index."""
    compact = await _head(session)
    first = compact.size
    entries: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    for leaf in leaves:
        text = canonical(leaf.entry).decode()
        hashed = merkle.leaf_hash(text.encode())
        entries.append(
            {"leaf_index": compact.size, "kind": leaf.kind, "ref": leaf.ref, "notice_id": leaf.notice_id, "entry": text, "leaf_hash": hashed.hex(), "recorded_at": leaf.recorded_at}
        )
        compact, completed = compact.append(hashed)
        nodes.extend({"level": level, "index": position, "hash": value.hex()} for level, position, value in completed)
    if not entries:
        return first
    head = {"new_size": compact.size, "new_frontier": compact.to_json()}
    if session.get_bind().dialect.name == "postgresql":
        columns = {column: [row[column] for row in entries] for column in ENTRY_COLUMNS} | {column: [row[column] for row in nodes] for column in NODE_COLUMNS}
        await session.exec(APPENDED, params=head | columns)
    else:
        await session.exec(NEW_ENTRIES, params=entries)
        await session.exec(NEW_NODES, params=nodes)
        await session.exec(MOVED_HEAD, params=head)
    return first


async def append(session: AsyncSession, entry: dict[str, Any], *, kind: str, ref: str, notice_id: str, now: datetime) -> int:
    """Appends one entry (hashed as canonical JSON) in this transaction; returns its leaf index."""
    return await append_all(session, [Leaf(entry=entry, kind=kind, ref=ref, notice_id=notice_id, recorded_at=now)])


async def size(session: AsyncSession) -> int:
    """Returns how many entries the log holds (committed)."""
    found = (await session.exec(select(HEAD.c.size).where(HEAD.c.id == 1))).first()
    return int(found) if found is not None else 0


async def _nodes(session: AsyncSession, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    keys = list(wanted)
    found: dict[tuple[int, int], bytes] = {}
    # One cached statement whatever the keys: (level, index) IN an expanding list, not an OR of pairs compiled anew
    # for every proof. Chunks stay well under the drivers' limit on bound parameters.
    statement = select(NODE.c.level, NODE.c.index, NODE.c.hash).where(tuple_(NODE.c.level, NODE.c.index).in_(bindparam("keys", expanding=True)))
    for start in range(0, len(keys), 1000):
        for level, index, value in map(tuple, await core_rows(session, statement.params(keys=keys[start : start + 1000]))):
            found[(level, index)] = bytes.fromhex(value)
    return found


async def root(session: AsyncSession, tree_size: int) -> bytes:
    """Returns the root of the log's first `tree_size` entries."""
    nodes = await _nodes(session, merkle.nodes_for_root(tree_size))
    return merkle.root_hash(tree_size, merkle.perfect_from(nodes))


async def inclusion(session: AsyncSession, index: int, tree_size: int) -> list[bytes]:
    """Returns the inclusion proof of a leaf in the tree of `tree_size` entries."""
    nodes = await _nodes(session, merkle.nodes_for_inclusion(index, tree_size))
    return merkle.inclusion_path(index, tree_size, merkle.perfect_from(nodes))


async def inclusions(session: AsyncSession, indices: Iterable[int], tree_size: int) -> dict[int, list[bytes]]:
    """Returns inclusion proofs of several leaves in one read of the nodes they need."""
    indices = list(indices)
    wanted: set[tuple[int, int]] = set()
    for index in indices:
        wanted |= merkle.nodes_for_inclusion(index, tree_size)
    nodes = await _nodes(session, wanted)
    return {index: merkle.inclusion_path(index, tree_size, merkle.perfect_from(nodes)) for index in indices}


async def consistency(session: AsyncSession, old_size: int, new_size: int) -> list[bytes]:
    """Returns the proof that the tree of `old_size` entries is a prefix of the tree of `new_size`."""
    nodes = await _nodes(session, merkle.nodes_for_consistency(old_size, new_size))
    return merkle.consistency_path(old_size, new_size, merkle.perfect_from(nodes))


async def entries(session: AsyncSession, indices: Iterable[int]) -> dict[int, EvidenceLogEntry]:
    """Returns log entries by leaf index."""
    rows = (await session.exec(select(EvidenceLogEntry).where(col(EvidenceLogEntry.leaf_index).in_(list(indices))))).all()
    return {row.leaf_index: row for row in rows}


async def checkpoint(session: AsyncSession, signer: Signer, *, now: datetime) -> EvidenceCheckpoint:
    """Signs the log at its size in this transaction, or returns the checkpoint already signed at that size."""
    head = await _head(session)
    existing = await session.get(EvidenceCheckpoint, head.size)
    if existing is not None:
        return existing
    signed = signer.sign(size=head.size, root=head.root(), now=now)
    session.add(signed)
    await session.flush()
    return signed


async def latest_checkpoint(session: AsyncSession) -> EvidenceCheckpoint | None:
    """Returns the checkpoint of the largest size signed."""
    return (await session.exec(select(EvidenceCheckpoint).order_by(col(EvidenceCheckpoint.size).desc()).limit(1))).first()
