"""Side-effect ledger: an outside call (SMS, call, e-mail, EMS booking) made at most once per key."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, bindparam, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.plumbing.clock import Clock
from shared.plumbing.db import Database, JSONDoc, UTCDateTime, insert_ignoring_duplicates, table_of

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


_TABLE = table_of(SideEffect)


class SideEffectInDoubt(RuntimeError):
    """A call was requested earlier but its outcome is unknown and cannot be reconciled."""


class NotWanted(RuntimeError):
    """The caller's `wanted` check said the call is no longer wanted: nothing was claimed or called."""


class Busy(RuntimeError):
    """Another process is making this call right now: nothing was claimed or called here, and the caller tries again later."""


@dataclass(frozen=True)
class Effect:
    """One outside call to make at most once for `key`, and how to learn its outcome when an earlier try left it unknown."""

    key: str
    kind: str
    call: Callable[[], Awaitable[Result]]
    reconcile: Callable[[], Awaitable[Result | None]] | None = None


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
    Two processes never make the call for one key at the same time: the second gets Busy (see `perform_all`).
    `wanted`, when given, is asked in the transaction that claims the
    key (one round trip fewer than asking before); when it answers False, perform raises NotWanted.
    """

    async def still_wanted(session: AsyncSession, keys: Sequence[str]) -> Collection[str]:
        return keys if wanted is None or await wanted(session) else ()

    [outcome] = await perform_all(db, [Effect(key=key, kind=kind, call=call, reconcile=reconcile)], clock=clock, wanted=still_wanted)
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


async def perform_all(
    db: Database, effects: Sequence[Effect], *, clock: Clock, wanted: Callable[[AsyncSession, Sequence[str]], Awaitable[Collection[str]]] | None = None
) -> list[Result | BaseException]:
    """Performs each effect as `perform` does, but claims them all in one transaction, calls them concurrently and records them all in one.

    Returns, in order, each effect's result or the exception `perform` would have raised for it. `wanted`, when
    given, answers which of the keys are still wanted, in the claiming transaction. The keys must be distinct.
    """
    keys = [effect.key for effect in effects]
    if not keys:
        return []
    if len(set(keys)) != len(keys):
        raise ValueError("perform_all needs distinct keys")
    # From claiming a key to recording its result, nothing in the table tells a call in flight in another replica from
    # one a crash left unknown: the key's lock does, and PostgreSQL drops it with a dead process's connection, so a
    # crash still leaves the key to `reconcile`.
    async with db.holding("songda.ledger", keys) as free:
        return await _perform_free(db, effects, free=free, clock=clock, wanted=wanted)


async def _perform_free(
    db: Database, effects: Sequence[Effect], *, free: Collection[str], clock: Clock, wanted: Callable[[AsyncSession, Sequence[str]], Awaitable[Collection[str]]] | None
) -> list[Result | BaseException]:
    """Performs the effects whose keys this process holds (`free`); the others are Busy."""
    mine = [effect.key for effect in effects if effect.key in free]
    async with db.transaction() as session:
        chosen = set(mine if wanted is None or not mine else await wanted(session, mine))
        claimed, earlier = await _claim(db, session, [effect for effect in effects if effect.key in chosen], now=clock.now())

    async def outcome(effect: Effect) -> tuple[Result, bool]:
        """Returns the effect's result and whether it is new, to be recorded."""
        if effect.key not in free:
            raise Busy(f"{effect.kind} {effect.key} is being made by another process")
        if effect.key not in chosen:
            raise NotWanted(f"{effect.kind} {effect.key} is no longer wanted")
        entry = None if effect.key in claimed else earlier[effect.key]
        if entry is not None and entry.status is EffectStatus.done:
            return dict(entry.result or {}), False
        if entry is not None:
            if effect.reconcile is None:
                raise SideEffectInDoubt(f"{effect.kind} {effect.key} was requested before and its outcome is unknown")
            known = await effect.reconcile()
            if known is not None:
                return known, True
        return await effect.call(), True

    outcomes = await asyncio.gather(*(outcome(effect) for effect in effects), return_exceptions=True)
    await _record(db, {effect.key: done[0] for effect, done in zip(effects, outcomes, strict=True) if not isinstance(done, BaseException) and done[1]}, clock=clock)
    return [done if isinstance(done, BaseException) else done[0] for done in outcomes]


async def _claim(db: Database, session: AsyncSession, effects: Sequence[Effect], *, now: datetime) -> tuple[set[str], dict[str, SideEffect]]:
    """Claims the effects' keys in one INSERT; returns the keys claimed now and the entries earlier tries left."""
    if not effects:
        return set(), {}
    rows = [{"key": effect.key, "kind": effect.kind, "status": EffectStatus.requested, "requested_at": now} for effect in effects]
    # As parameters of the one-row statement, compiled once, not `.values(rows)` compiled anew per batch size (inbox.claim_all).
    statement = insert_ignoring_duplicates(db.engine, SideEffect).returning(_TABLE.c.key)
    claimed = set((await session.exec(statement, params=rows)).scalars().all())
    rest = [effect.key for effect in effects if effect.key not in claimed]
    if not rest:
        return claimed, {}
    return claimed, {entry.key: entry for entry in (await session.exec(select(SideEffect).where(col(SideEffect.key).in_(rest)))).all()}


async def _record(db: Database, results: Mapping[str, Result], *, clock: Clock) -> None:
    if not results:
        return
    # One UPDATE run for every key rather than load, change and flush: each entry was claimed above, so it is there.
    done = update(_TABLE).where(_TABLE.c.key == bindparam("done_key")).values(status=EffectStatus.done, result=bindparam("done_result"), completed_at=clock.now())
    async with db.transaction() as session:
        await session.exec(done, params=[{"done_key": key, "done_result": result} for key, result in results.items()])
