"""Database engines for SQLite (embedded default) and PostgreSQL, and column types both share."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from sqlalchemy import JSON, DateTime, Row, Select, Table, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

Sessions = async_sessionmaker[AsyncSession]


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes and always returns them in UTC (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use the shared clock")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONDoc = JSON().with_variant(postgresql.JSONB(), "postgresql")


def json_text(value: Any) -> str:
    """Writes a JSON column's value as text, with orjson: the standard library's encoder was 2–5% of each consumer's CPU."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def async_url(url: str) -> str:
    """Picks the async driver for a plain postgresql:// or sqlite:// URL."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def is_postgres(engine: AsyncEngine) -> bool:
    """Tells whether the engine talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"


def create_engine(url: str, *, pool_size: int = 20) -> AsyncEngine:
    """Creates an async engine; SQLite gets WAL, a busy timeout and write-locking transactions.

    Parameters are hidden from error messages: they carry personal data, and errors end up in logs.
    """
    url = async_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        # No pre-ping: it costs a round trip per checkout. After a server restart SQLAlchemy sees the
        # first disconnect error and invalidates the whole pool, and consumers retry that error.
        # The pool keeps every connection it opens, up to the same ceiling as before (pool_size plus half):
        # an overflow connection closed on return was opened again at the next burst, and each opening cost a
        # handshake, type introspection and preparing every statement again. The statement cache is sized for
        # a whole service's statements (100 by default, which the ORM's many INSERT/UPDATE shapes outgrow).
        # Documents of about 2 kB (envelopes, notices, recipients' states) cross PostgreSQL's TOAST threshold: with its
        # default compressor, pglz, storing one cost 29–47 µs of server CPU and pglz often gave up; lz4 stores one in
        # 17 µs, a third smaller.
        return create_async_engine(
            url,
            pool_size=pool_size + pool_size // 2,
            max_overflow=0,
            pool_recycle=1800,
            hide_parameters=True,
            json_serializer=json_text,
            json_deserializer=orjson.loads,
            connect_args={"prepared_statement_cache_size": 500, "server_settings": {"default_toast_compression": "lz4"}},
        )
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True, json_serializer=json_text, json_deserializer=orjson.loads)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions, so they can begin IMMEDIATE below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that later writes can fail at once with "database is locked";
        # taking the write lock up front makes concurrent writers wait their turn instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def sessionmaker(engine: AsyncEngine) -> Sessions:
    """Returns the session factory handlers and routes use."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def create_tables(engine: AsyncEngine, tables: Sequence[Table]) -> None:
    """Creates the given tables when missing; harmless when they exist."""
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: SQLModel.metadata.create_all(sync, tables=list(tables), checkfirst=True))


async def core_rows(session: AsyncSession, statement: Select[Any], params: Mapping[str, Any] | None = None) -> Sequence[Row[Any]]:
    """Runs a Core SELECT over tables, with values for its bound parameters, and returns its rows (sqlmodel's `exec` is typed for model selects only)."""
    result = await session.exec(statement, params=params)  # type: ignore[call-overload]
    return result.all()


def alone(session: AsyncSession) -> asyncpg.Connection | None:
    """Returns the asyncpg connection of a session `Database.each_alone` opened, while it has nothing pending; None for any other.

    A statement sent straight to it behaves as the same statement sent through the session: each commits alone, and
    the session has nothing it would flush first. Through SQLAlchemy a statement cost about 70 µs more.
    """
    connection: asyncpg.Connection | None = session.info.get(_ALONE)
    return None if connection is None or _pending(session) else connection


_ALONE = "songda.alone"


def _pending(session: AsyncSession) -> bool:
    """Tells whether the session holds objects it would flush before its next statement."""
    return bool(session.new or session.dirty or session.deleted)


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """Returns the asyncpg connection the session's statements run on (PostgreSQL only)."""
    connection: asyncpg.Connection = (await (await session.connection()).get_raw_connection()).driver_connection
    return connection


def table_of(model: type[SQLModel]) -> Table:
    """Returns a table model's SQLAlchemy table (SQLModel sets it at class creation, which type checkers cannot see)."""
    return model.__table__  # type: ignore[attr-defined]


def column_values(instance: SQLModel) -> dict[str, Any]:
    """Returns a table model's values by column, as an INSERT takes them."""
    # Not model_dump: pydantic walks and copies every JSON document in it (≈60 µs for a notice), which the insert's
    # own serialiser then walks again.
    return {column.key: getattr(instance, column.key) for column in table_of(type(instance)).columns}


def insert_ignoring_duplicates(where: AsyncSession | AsyncEngine, table: Table | type[SQLModel]) -> Any:
    """Returns an INSERT … ON CONFLICT DO NOTHING in the dialect of the session's or engine's database."""
    dialect = where.dialect if isinstance(where, AsyncEngine) else where.get_bind().dialect
    module = postgresql if dialect.name == "postgresql" else sqlite
    return module.insert(table if isinstance(table, Table) else table_of(table)).on_conflict_do_nothing()


class Database:
    """A service's engine and sessions; `transaction()` is the unit of work every write goes through."""

    def __init__(self, url: str, *, pool_size: int = 20) -> None:
        self.engine = create_engine(url, pool_size=pool_size)
        self.sessions = sessionmaker(self.engine)
        self._after_commit: list[Callable[[AsyncSession], None]] = []
        self._pool_size = pool_size
        self._alone_pool: asyncpg.Pool | None = None
        self._alone_pool_opening = asyncio.Lock()

    @property
    def is_postgres(self) -> bool:
        """Tells whether this database is PostgreSQL."""
        return is_postgres(self.engine)

    def after_commit(self, hook: Callable[[AsyncSession], None]) -> None:
        """Registers a hook run after every committed transaction (e.g. waking the outbox relay)."""
        self._after_commit.append(hook)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Opens a session in a transaction that commits on success and rolls back on error."""
        async with self.sessions() as session:
            async with session.begin():
                yield session
            for hook in self._after_commit:
                hook(session)

    @asynccontextmanager
    async def each_alone(self) -> AsyncIterator[AsyncSession]:
        """Opens a session whose statements each commit alone, holding an asyncpg connection for the hot ones (`alone`); PostgreSQL only.

        For a hot read path (an address lookup: one read, one audit entry). Its connection comes from an asyncpg pool
        of this database's own: a session's checkout, commit and return through SQLAlchemy cost about 200 µs, the
        pool's about 35. The session itself connects only if the block uses it, in AUTOCOMMIT too.
        """
        pool = self._alone_pool or await self._open_alone_pool()
        # As long as SQLAlchemy's pool waits for a free connection (its pool_timeout) before the request fails.
        async with pool.acquire(timeout=30) as connection, AsyncSession(_autocommit(self.engine), expire_on_commit=False) as session:
            session.info[_ALONE] = connection
            yield session
            if session.in_transaction() or _pending(session):
                await session.commit()

    async def _open_alone_pool(self) -> asyncpg.Pool:
        if not self.is_postgres:
            raise RuntimeError("each_alone needs PostgreSQL: SQLite opens every transaction with BEGIN IMMEDIATE, which AUTOCOMMIT would leave open")
        async with self._alone_pool_opening:
            if self._alone_pool is None:
                dsn = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
                self._alone_pool = await asyncpg.create_pool(dsn, min_size=0, max_size=self._pool_size, init=_decode_json, reset=_kept_as_is)
            return self._alone_pool

    @asynccontextmanager
    async def exclusively(self, name: str) -> AsyncIterator[None]:
        """Runs the block while no other process runs one under the same name on this database (replicas starting at once)."""
        if not self.is_postgres:
            yield
            return
        async with self._locking() as connection:
            await connection.execute(_LOCK, {"name": f"songda.exclusively:{name}"})
            yield

    @asynccontextmanager
    async def holding(self, space: str, keys: Sequence[str]) -> AsyncIterator[set[str]]:
        """Holds, for the block, a lock on each of the keys (in `space`) no other process holds, and yields those keys; on SQLite every key."""
        if not self.is_postgres:
            yield set(keys)
            return
        async with self._locking() as connection:
            yield set((await connection.execute(_TRY_LOCKS, {"space": f"{space}:", "keys": list(keys)})).scalars())

    @asynccontextmanager
    async def _locking(self) -> AsyncIterator[AsyncConnection]:
        """A connection of its own for session-level advisory locks, released when the block ends.

        PostgreSQL also drops them with a dead process's connection. Autocommit: the block may wait on outside
        calls, and should not hold a transaction open meanwhile. SQLite serves one process, which needs no lock.
        """
        async with self.engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            try:
                yield connection
            finally:
                # Only this block's locks: the connection holds no others.
                await connection.execute(_UNLOCK_ALL)

    async def dispose(self) -> None:
        """Closes every pooled connection."""
        if self._alone_pool is not None:
            await self._alone_pool.close()
            self._alone_pool = None
        await self.engine.dispose()


@lru_cache(maxsize=8)
def _autocommit(engine: AsyncEngine) -> AsyncEngine:
    # Making an option engine joins its event hooks to the engine's: done once per engine, not on every session.
    return engine.execution_options(isolation_level="AUTOCOMMIT")


async def _decode_json(connection: asyncpg.Connection) -> None:
    """Reads json and jsonb as the engine's connections do (orjson), and takes either as its text."""
    for name in ("json", "jsonb"):
        await connection.set_type_codec(name, encoder=str, decoder=orjson.loads, schema="pg_catalog")


async def _kept_as_is(connection: asyncpg.Connection) -> None:
    """Takes a returned connection back as it is: its statements each committed alone and set nothing.

    asyncpg's default reset (RESET ALL, UNLISTEN *, CLOSE ALL, unlocking advisory locks) is a round trip on every
    return. A transaction a cancelled statement left open asyncpg still rolls back before calling this.
    """


# A key's lock is its hash (two keys sharing one only wait for each other's round); `pg_try_advisory_lock` in the WHERE
# takes each key's lock only when it is free.
_LOCK = text("SELECT pg_advisory_lock(hashtextextended(:name, 0))")
_TRY_LOCKS = text("SELECT key FROM unnest(CAST(:keys AS text[])) AS key WHERE pg_try_advisory_lock(hashtextextended(:space || key, 0))")
_UNLOCK_ALL = text("SELECT pg_advisory_unlock_all()")
