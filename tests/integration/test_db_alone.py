"""db.alone on real PostgreSQL: a statement goes straight to asyncpg only where it behaves as it would through the session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.plumbing import audit
from shared.plumbing.audit import AuditEntry
from shared.plumbing.auth import Principal, Role
from shared.plumbing.db import Database, alone, create_tables
from shared.plumbing.runtime import PLUMBING_TABLES

AT = datetime(2026, 12, 4, 8, 30, tzinfo=UTC)
SUPERVISOR = Principal(sub="S1", role=Role.supervisor)


def pending(outcome: str) -> AuditEntry:
    return AuditEntry(id=outcome, at=AT, actor_role="supervisor", actor_sub="S1", action="a", target="t", outcome=outcome)


@asynccontextmanager
async def plumbing(make_database, name: str, *, pool_size: int = 20) -> AsyncIterator[Database]:
    """A fresh database with the plumbing tables, disposed of after the block."""
    db = Database(await make_database(name), pool_size=pool_size)
    try:
        await create_tables(db.engine, PLUMBING_TABLES)
        yield db
    finally:
        await db.dispose()


async def entries(db: Database) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(AuditEntry)) or 0


async def test_only_a_session_opened_each_alone_gets_the_connection_and_only_while_nothing_is_pending(make_database) -> None:
    async with plumbing(make_database, "alone") as db:
        async with db.each_alone() as session:
            assert isinstance(alone(session), asyncpg.Connection)
            # Something the session would flush before its next statement: a raw statement would miss it.
            session.add(pending("added"))
            assert alone(session) is None
        # What the block left pending is committed at its end.
        assert await entries(db) == 1
        async with db.transaction() as session:
            assert alone(session) is None
        async with db.sessions() as session:
            assert alone(session) is None
        async with AsyncSession(db.engine.execution_options(isolation_level="AUTOCOMMIT")) as session:
            assert alone(session) is None


async def test_a_statement_sent_straight_commits_alone_at_once(make_database) -> None:
    async with plumbing(make_database, "alone_commit") as db:
        async with db.each_alone() as session:
            await audit.write(session, SUPERVISOR, action="address_lookup", target="-", now=AT, outcome="straight")
            # Seen from another connection before the block ends: no transaction holds it back.
            assert await entries(db) == 1


async def test_a_connection_returned_inside_a_transaction_comes_back_out_of_it(make_database) -> None:
    # One connection in the pool: the second block gets the first one's connection again.
    async with plumbing(make_database, "alone_reset", pool_size=1) as db:
        async with db.each_alone() as session:
            first = alone(session)
            assert first is not None
            backend = await first.fetchval("SELECT pg_backend_pid()")
            await first.execute("BEGIN")
            await first.execute("INSERT INTO audit_entry (id, at, actor_role, actor_sub, action, target, party_ids, outcome) VALUES ('left', now(), 'r', 's', 'a', 't', '[]', 'o')")
        async with db.each_alone() as session:
            again = alone(session)
            assert again is not None and await again.fetchval("SELECT pg_backend_pid()") == backend
            # Rolled back: left open, the next lookup's audit entry would have joined it.
            assert not again.is_in_transaction()


async def test_an_audit_entry_written_straight_reads_back_as_one_written_through_the_session(make_database) -> None:
    async with plumbing(make_database, "alone_audit") as db:
        async with db.each_alone() as session:
            await audit.write(session, SUPERVISOR, action="address_lookup", target="-", now=AT, purpose="核实", party_ids=["p-1", "p-2"], outcome="straight")
        async with db.transaction() as session:
            await audit.write(session, SUPERVISOR, action="address_lookup", target="-", now=AT, purpose="核实", party_ids=["p-1", "p-2"], outcome="session")
        async with db.sessions() as session:
            rows = {entry.outcome: entry for entry in (await session.exec(select(AuditEntry))).all()}
        straight, through = rows["straight"], rows["session"]
        fields = ("at", "actor_role", "actor_sub", "action", "target", "purpose", "party_ids", "client")
        assert [getattr(straight, name) for name in fields] == [getattr(through, name) for name in fields]
        assert straight.party_ids == ["p-1", "p-2"] and straight.at == AT
