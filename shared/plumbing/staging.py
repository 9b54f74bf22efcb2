"""Rows staged in a session instead of ORM objects, written together: before its next statement, or only as it commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, event, insert
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlmodel.ext.asyncio.session import AsyncSession

# Rows the transaction may read back: written before the session runs its next statement (and at commit).
_READABLE = "songda.staged.readable"
# Rows nothing reads before commit (the outbox's): written only as the transaction commits, all in one INSERT per table.
_AT_COMMIT = "songda.staged.at_commit"


def stage(session: AsyncSession, table: Table, row: dict[str, Any], *, read_back: bool = True) -> None:
    """Stages a row for `table` in the caller's transaction; every row of a table needs the same keys, and a column left out takes its default.

    A row built as a dict costs a fraction of an ORM object, and the rows of a batch go in one INSERT per table
    (bench/delivery_steps.py). With `read_back`, any statement the session runs later sees the row; without, the row
    is written only at commit, so the transaction must not look for it.
    """
    sync = session.sync_session
    where = sync.get_nested_transaction() or sync.get_transaction()
    sync.info.setdefault(_READABLE if read_back else _AT_COMMIT, []).append((where, table, row))


def _write(session: Session, key: str) -> None:
    staged = session.info.pop(key, None)
    if staged:
        tables: dict[Table, list[dict[str, Any]]] = {}
        for _, table, row in staged:
            tables.setdefault(table, []).append(row)
        # One INSERT per table, tables in the order first staged: a table whose rows point at another's is first
        # staged after it.
        connection = session.connection()
        for table, rows in tables.items():
            connection.execute(insert(table), rows)


@event.listens_for(Session, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    """Writes the readable rows before any statement the session runs, so the statement sees them."""
    if state.session.info.get(_READABLE):
        _write(state.session, _READABLE)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    """Writes what is staged in the transaction about to commit (or the savepoint about to be released, inside its parent)."""
    _write(session, _READABLE)
    _write(session, _AT_COMMIT)


@event.listens_for(Session, "after_soft_rollback")
def _drop(session: Session, previous_transaction: SessionTransaction) -> None:
    """Forgets the rows staged in a transaction or savepoint that rolled back, and in the savepoints within it."""
    for key in (_READABLE, _AT_COMMIT):
        staged = session.info.get(key)
        if staged:
            session.info[key] = [item for item in staged if not _within(item[0], previous_transaction)]


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    """Says whether `transaction` is `ancestor` or nested in it; a row staged before any transaction began belongs to the outermost."""
    if transaction is None:
        return ancestor.parent is None
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False
