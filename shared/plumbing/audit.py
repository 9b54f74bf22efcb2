"""The audit log every service keeps of reads of personal data and evidence: who, as what, what, when, why; auditors read it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import JSON, Column, insert
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.plumbing.auth import Principal, Role, require
from shared.plumbing.db import JSONDoc, UTCDateTime, alone, json_text, table_of


class AuditEntry(SQLModel, table=True):
    """One read (or refused read) of personal data, an evidence item or a report."""

    __tablename__ = "audit_entry"

    id: str = Field(primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    actor_role: str
    actor_sub: str = Field(index=True)
    action: str
    target: str = Field(index=True)
    purpose: str | None = None
    # Parties by their id, never by ID number.
    party_ids: list[str] = Field(default_factory=list, sa_column=Column(JSONDoc, nullable=False))
    outcome: str
    client: str | None = None


def record(
    session: AsyncSession,
    principal: Principal,
    *,
    action: str,
    target: str,
    now: datetime,
    purpose: str | None = None,
    party_ids: Sequence[str] = (),
    outcome: str = "shown",
    client: str | None = None,
) -> None:
    """Adds an entry in the caller's transaction, so a read is logged exactly when it happened; `client` is the caller's address."""
    session.add(AuditEntry(**_entry(principal, action=action, target=target, now=now, purpose=purpose, party_ids=party_ids, outcome=outcome, client=client)))


async def write(
    session: AsyncSession, principal: Principal, *, action: str, target: str, now: datetime, purpose: str | None = None, party_ids: Sequence[str] = (), outcome: str = "shown"
) -> None:
    """Inserts the entry `record` adds, at once and without the ORM's unit of work, for a hot read path that writes nothing else."""
    entry = _entry(principal, action=action, target=target, now=now, purpose=purpose, party_ids=party_ids, outcome=outcome)
    connection = alone(session)
    if connection is None:
        await session.exec(insert(table_of(AuditEntry)), params=entry)
        return
    # Straight to asyncpg in a session whose statements commit alone (db.alone), as an address lookup's is.
    await connection.execute(_INSERT, *(json_text(entry[name]) if name in _JSON_COLUMNS else entry[name] for name in _COLUMNS))


_COLUMNS = [column.name for column in table_of(AuditEntry).columns]
# asyncpg takes a json or jsonb value as its text.
_JSON_COLUMNS = {column.name for column in table_of(AuditEntry).columns if isinstance(column.type, JSON)}
_INSERT = f"INSERT INTO audit_entry ({', '.join(_COLUMNS)}) VALUES ({', '.join(f'${index}' for index in range(1, len(_COLUMNS) + 1))})"


def _entry(
    principal: Principal, *, action: str, target: str, now: datetime, purpose: str | None, party_ids: Sequence[str], outcome: str, client: str | None = None
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "at": now,
        "actor_role": principal.role.value,
        "actor_sub": principal.sub,
        "action": action,
        "target": target,
        "purpose": purpose,
        "party_ids": list(party_ids),
        "outcome": outcome,
        "client": client,
    }


class AuditEntryOut(BaseModel):
    id: str
    at: datetime
    actor_role: str
    actor_sub: str
    action: str
    target: str
    purpose: str | None
    party_ids: list[str]
    outcome: str
    client: str | None


router = APIRouter(prefix="/v1", tags=["audit"])

Auditors = Annotated[Principal, Depends(require(Role.auditor, Role.supervisor))]


@router.get("/audit-log", response_model=list[AuditEntryOut], summary="Latest reads of personal data and evidence, newest first")
async def audit_log(
    request: Request, _: Auditors, actor: Annotated[str | None, Query(max_length=64)] = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[AuditEntryOut]:
    """Returns who read what, when and why; auditors and supervisors only."""
    query = select(AuditEntry).order_by(col(AuditEntry.at).desc()).limit(limit)
    if actor:
        query = query.where(AuditEntry.actor_sub == actor)
    async with request.app.state.runtime.db.sessions() as session:
        return [AuditEntryOut.model_validate(e, from_attributes=True) for e in (await session.exec(query)).all()]
