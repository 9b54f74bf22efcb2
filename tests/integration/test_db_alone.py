"""db.alone on real PostgreSQL: a statement goes straight to asyncpg only where it behaves as it would through the session."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.plumbing import audit
from shared.plumbing.audit import AuditEntry
from shared.plumbing.auth import Principal, Role
from shared.plumbing.db import Database, alone, create_tables
from shared.plumbing.runtime import PLUMBING_TABLES

AT = datetime(2026, 12, 4, 8, 30, tzinfo=UTC)
SUPERVISOR = Principal(sub="S1", role=Role.supervisor)


async def test_only_a_session_whose_statements_commit_alone_gets_the_connection(make_database) -> None:
    db = Database(await make_database("alone"))
    try:
        await create_tables(db.engine, PLUMBING_TABLES)
        autocommit = db.engine.execution_options(isolation_level="AUTOCOMMIT")
        async with AsyncSession(autocommit) as session:
            assert isinstance(await alone(session), asyncpg.Connection)
            # Something the session would flush before its next statement: a raw statement would miss it.
            session.add(AuditEntry(id="pending", at=AT, actor_role="supervisor", actor_sub="S1", action="a", target="t", outcome="shown"))
            assert await alone(session) is None
        async with db.transaction() as session:
            assert await alone(session) is None
        async with db.sessions() as session:
            assert await alone(session) is None
    finally:
        await db.dispose()


async def test_an_audit_entry_written_straight_reads_back_as_one_written_through_the_session(make_database) -> None:
    db = Database(await make_database("alone_audit"))
    try:
        await create_tables(db.engine, PLUMBING_TABLES)
        async with AsyncSession(db.engine.execution_options(isolation_level="AUTOCOMMIT")) as session:
            await audit.write(session, SUPERVISOR, action="address_lookup", target="-", now=AT, purpose="核实", party_ids=["p-1", "p-2"], outcome="straight")
        async with db.transaction() as session:
            await audit.write(session, SUPERVISOR, action="address_lookup", target="-", now=AT, purpose="核实", party_ids=["p-1", "p-2"], outcome="session")
        async with db.sessions() as session:
            rows = {entry.outcome: entry for entry in (await session.exec(select(AuditEntry))).all()}
        straight, through = rows["straight"], rows["session"]
        fields = ("at", "actor_role", "actor_sub", "action", "target", "purpose", "party_ids", "client")
        assert [getattr(straight, name) for name in fields] == [getattr(through, name) for name in fields]
        assert straight.party_ids == ["p-1", "p-2"] and straight.at == AT
    finally:
        await db.dispose()
