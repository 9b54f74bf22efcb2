"""Staged rows: a readable row is written before the session's next statement, every row at commit, none of a rolled-back savepoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table, select

from shared.plumbing import staging
from shared.plumbing.db import Database, core_rows, create_tables

THINGS = Table("staged_thing", MetaData(), Column("id", String, primary_key=True), Column("name", String, nullable=False))
LISTED = select(THINGS.c.id).order_by(THINGS.c.id)


class Refused(Exception):
    """Raised to roll a savepoint back."""


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'staging.db'}")
    await create_tables(database.engine, [THINGS])
    yield database
    await database.dispose()


async def stored(db: Database) -> list[str]:
    async with db.sessions() as session:
        return [row.id for row in await core_rows(session, LISTED)]


async def test_a_readable_row_is_seen_by_the_next_statement_of_its_transaction(db: Database) -> None:
    async with db.transaction() as session:
        staging.stage(session, THINGS, {"id": "a", "name": "first"})
        staging.stage(session, THINGS, {"id": "b", "name": "second"})
        assert [row.id for row in await core_rows(session, LISTED)] == ["a", "b"]
        staging.stage(session, THINGS, {"id": "c", "name": "third"})
    assert await stored(db) == ["a", "b", "c"]


async def test_a_row_staged_until_commit_is_not_written_before_it(db: Database) -> None:
    async with db.transaction() as session:
        staging.stage(session, THINGS, {"id": "a", "name": "at commit"}, read_back=False)
        assert await core_rows(session, LISTED) == []
    assert await stored(db) == ["a"]


async def test_rows_of_a_savepoint_rolled_back_are_never_written_and_those_around_it_are(db: Database) -> None:
    async with db.transaction() as session:
        staging.stage(session, THINGS, {"id": "a", "name": "before"})
        with pytest.raises(Refused):
            async with session.begin_nested():
                staging.stage(session, THINGS, {"id": "doomed", "name": "unwritten"})
                staging.stage(session, THINGS, {"id": "doomed-too", "name": "unwritten"}, read_back=False)
                raise Refused
        staging.stage(session, THINGS, {"id": "b", "name": "after"})
    assert await stored(db) == ["a", "b"]


async def test_a_row_written_inside_a_savepoint_rolled_back_is_gone_with_it(db: Database) -> None:
    async with db.transaction() as session:
        with pytest.raises(Refused):
            async with session.begin_nested():
                staging.stage(session, THINGS, {"id": "doomed", "name": "written, then undone"})
                assert len(await core_rows(session, LISTED)) == 1
                raise Refused
        assert await core_rows(session, LISTED) == []
    assert await stored(db) == []
