"""Side-effect ledger: an outside call (SMS, call, e-mail, EMS booking) made at most once per key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.plumbing.clock import Clock
from shared.plumbing.db import Database, JSONDoc, UTCDateTime, insert_ignoring_duplicates

Result = dict[str, Any]


class EffectStatus(StrEnum):
    requested = "requested"
    done = "done"


class SideEffect(SQLModel, table=True):
    """One outside call: recorded as requested before it is made, with its result once known."""

    __tablename__ = "side_effect"

    key: str = Field(primary_key=True)
    kind: str
    status: EffectStatus
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONDoc, nullable=True))
    requested_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class SideEffectInDoubt(RuntimeError):
    """A call was requested earlier but its outcome is unknown and cannot be reconciled."""


class NotWanted(RuntimeError):
    """The caller's `wanted` check said the call is no longer wanted: nothing was claimed or called."""


async def perform(
    db: Database,
    *,
    key: str,
    kind: str,
    clock: Clock,
    call: Callable[[], Awaitable[Result]],
    reconcile: Callable[[], Awaitable[Result | None]] | None = None,
    wanted: Callable[[AsyncSession], Awaitable[bool]] | None = None,
) -> Result:
    """Makes `call` at most once for `key` and returns its result; a repeat returns the recorded result.

    `call` returns a result for success and for a definite refusal alike; raising means the outcome is
    unknown, and the entry stays `requested`. A later attempt then asks `reconcile` (e.g. look the
    message up by our reference at the provider) and only calls again when it answers None (never arrived).
    Calls for one key are not concurrent: the key derives from a message, and one consumer applies a
    partition's messages one after another. `wanted`, when given, is asked in the transaction that claims the
    key (one round trip fewer than asking before); when it answers False, perform raises NotWanted.
    """
    async with db.transaction() as session:
        if wanted is not None and not await wanted(session):
            raise NotWanted(f"{kind} {key} is no longer wanted")
        statement = insert_ignoring_duplicates(db.engine, SideEffect).values(key=key, kind=kind, status=EffectStatus.requested, requested_at=clock.now())
        first = (await session.exec(statement)).rowcount == 1
        entry = None if first else (await session.exec(select(SideEffect).where(SideEffect.key == key))).one()
    if entry is not None and entry.status is EffectStatus.done:
        return dict(entry.result or {})
    if entry is not None:
        if reconcile is None:
            raise SideEffectInDoubt(f"{kind} {key} was requested before and its outcome is unknown")
        known = await reconcile()
        if known is not None:
            return await _record(db, key=key, result=known, clock=clock)
    return await _record(db, key=key, result=await call(), clock=clock)


async def _record(db: Database, *, key: str, result: Result, clock: Clock) -> Result:
    async with db.transaction() as session:
        # One UPDATE rather than load, change and flush: the entry was claimed above, so it is there.
        done = update(SideEffect).where(col(SideEffect.key) == key).values(status=EffectStatus.done, result=result, completed_at=clock.now())
        await session.exec(done)
    return result
