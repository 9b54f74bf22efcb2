"""The append-only Merkle log in the database: leaves appended under one lock, roots and proofs from stored perfect subtrees."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.evidence.models import EvidenceCheckpoint, EvidenceLogEntry, EvidenceLogHead, EvidenceLogNode
from services.evidence.signer import Signer
from shared.contracts import merkle
from shared.contracts.report import canonical
from shared.plumbing.db import insert_ignoring_duplicates


async def _head(session: AsyncSession) -> EvidenceLogHead:
    # Every append locks this row until its transaction ends: one writer at a time, so indices have no gaps.
    head = (await session.exec(select(EvidenceLogHead).where(EvidenceLogHead.id == 1).with_for_update())).first()
    if head is None:
        await session.exec(insert_ignoring_duplicates(session, EvidenceLogHead).values(id=1, size=0, frontier=[]))
        head = (await session.exec(select(EvidenceLogHead).where(EvidenceLogHead.id == 1).with_for_update())).one()
    return head


async def append(session: AsyncSession, entry: dict[str, Any], *, kind: str, ref: str, notice_id: str, now: datetime) -> int:
    """Appends one entry (hashed as canonical JSON) in this transaction; returns its leaf index."""
    head = await _head(session)
    text = canonical(entry).decode()
    leaf = merkle.leaf_hash(text.encode())
    grown, nodes = merkle.CompactRange.from_json(head.size, head.frontier).append(leaf)
    index = head.size
    session.add(EvidenceLogEntry(leaf_index=index, kind=kind, ref=ref, notice_id=notice_id, entry=text, leaf_hash=leaf.hex(), recorded_at=now))
    session.add_all(EvidenceLogNode(level=level, index=position, hash=value.hex()) for level, position, value in nodes)
    head.size, head.frontier = grown.size, grown.to_json()
    session.add(head)
    await session.flush()
    return index


async def size(session: AsyncSession) -> int:
    """Returns how many entries the log holds (committed)."""
    head = await session.get(EvidenceLogHead, 1)
    return head.size if head else 0


async def _nodes(session: AsyncSession, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    keys = list(wanted)
    found: dict[tuple[int, int], bytes] = {}
    # A few hundred keys at most (log₂ of the size per proof); chunks keep the statement small.
    for start in range(0, len(keys), 200):
        chunk = keys[start : start + 200]
        condition = or_(*(and_(col(EvidenceLogNode.level) == level, col(EvidenceLogNode.index) == index) for level, index in chunk))
        for node in (await session.exec(select(EvidenceLogNode).where(condition))).all():
            found[(node.level, node.index)] = bytes.fromhex(node.hash)
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
    signed = signer.sign(size=head.size, root=merkle.CompactRange.from_json(head.size, head.frontier).root(), now=now)
    session.add(signed)
    await session.flush()
    return signed


async def latest_checkpoint(session: AsyncSession) -> EvidenceCheckpoint | None:
    """Returns the checkpoint of the largest size signed."""
    return (await session.exec(select(EvidenceCheckpoint).order_by(col(EvidenceCheckpoint.size).desc()).limit(1))).first()
