"""The console's tables: its users and their sessions (it keeps no delivery data)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from shared.plumbing.db import UTCDateTime, table_of


class ConsoleUser(SQLModel, table=True):
    """A person who signs in: a court clerk, an agent, a supervisor, a lawyer or an auditor."""

    __tablename__ = "console_user"

    id: str = Field(primary_key=True)
    username: str = Field(sa_column=Column(String, nullable=False, unique=True))
    display_name: str
    role: str
    # The subject of the tokens minted for the user: court id, agent id, firm USCC, or the username of a supervisor or auditor.
    scope: str
    # Argon2id in its PHC string form, parameters and salt included.
    password_hash: str
    disabled: bool = False
    failed_attempts: int = 0
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser: the cookie's token is never stored, only its sha256."""

    __tablename__ = "console_session"

    id: str = Field(primary_key=True)
    user_id: str = Field(foreign_key="console_user.id", index=True)
    csrf_token: str
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    last_seen: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # The absolute end; the idle end is last_seen plus the idle time, so a session ends at whichever comes first.
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))


TABLES = (table_of(ConsoleUser), table_of(ConsoleSession))
