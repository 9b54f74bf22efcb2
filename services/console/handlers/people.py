"""Accounts and sessions: signing in and out with lockout and audit, the session behind each request, and adding, listing and disabling users."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.console.accounts import USERNAME, NewUser
from services.console.deps import ConsoleDeps
from services.console.domain import after_failure, is_locked, session_end
from services.console.models import ConsoleSession, ConsoleUser
from services.console.sessions import TOUCH_EVERY_S, Visitor, new_token, session_id
from shared.plumbing import audit
from shared.plumbing.auth import Principal, Role
from shared.plumbing.problems import Problem

# Who the audit log names for an attempt at a username nobody has, and for the `songda user` command. The log's times are
# the system's (the domain clock), as on every service; locks and sessions count the wall clock, as people and tokens do.
CONSOLE = Principal(sub="console", role=Role.service)
OPERATOR = Principal(sub="songda-cli", role=Role.service)


class Attempt(StrEnum):
    """How a sign-in attempt ended, as the audit log records it."""

    ok = "ok"
    wrong_password = "wrong_password"
    unknown_user = "unknown_user"
    locked = "locked"
    disabled = "disabled"


@dataclass(frozen=True)
class SignedIn:
    """A new session: the cookie's token (shown once, never stored) and the person."""

    token: str
    visitor: Visitor


@dataclass(frozen=True)
class Refused:
    """A refused sign-in and what the page may say of it: wrong details, locked, or (to someone who knew the password) disabled."""

    shown: Attempt


def _visitor(user: ConsoleUser, session: ConsoleSession) -> Visitor:
    return Visitor(
        session_id=session.id,
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        scope=user.scope,
        csrf_token=session.csrf_token,
    )


def _as(user: ConsoleUser) -> Principal:
    return Principal(sub=user.scope, role=Role(user.role))


def _normal(username: str) -> str:
    return username.strip().lower()


async def _user(session: AsyncSession, username: str, *, lock: bool = False) -> ConsoleUser | None:
    statement = select(ConsoleUser).where(ConsoleUser.username == username)
    return (await session.exec(statement.with_for_update() if lock else statement)).first()


async def sign_in(deps: ConsoleDeps, *, username: str, password: str, client: str | None, replacing: str | None = None) -> SignedIn | Refused:
    """Checks a username and password; opens a session, or counts the failure and locks the username after too many; audits every attempt."""
    name, now = _normal(username), deps.wall.now()
    async with deps.db.sessions() as session:
        user = await _user(session, name) if re.fullmatch(USERNAME, name) else None
    if user is None:
        return await _stranger(deps, name=name, password=password, now=now, client=client)
    if is_locked(user.locked_until, now=now):
        return await _refuse(deps, user, Attempt.locked, client=client)
    # The hash is checked outside the transaction: it takes a tenth of a second that no other sign-in should wait for.
    matches = await deps.passwords.verify(user.password_hash, password)
    rehashed = await deps.passwords.hash(password) if matches and deps.passwords.outdated(user.password_hash) else None
    async with deps.db.transaction() as session:
        user = await _user(session, name, lock=True)
        assert user is not None, "users are disabled, never deleted"
        if is_locked(user.locked_until, now=now):
            outcome = shown = Attempt.locked
        elif user.disabled:
            # Only someone who knew the password learns that the account is disabled.
            outcome, shown = Attempt.disabled, Attempt.disabled if matches else Attempt.wrong_password
        elif not matches:
            user.failed_attempts, user.locked_until = after_failure(user.failed_attempts, now=now, policy=deps.policy)
            session.add(user)
            outcome, shown = Attempt.wrong_password, Attempt.locked if user.locked_until else Attempt.wrong_password
        else:
            return await _open(deps, session, user, rehashed=rehashed, now=now, client=client, replacing=replacing)
        audit.record(session, _as(user), action="console.sign_in", target=f"user:{user.username}", now=deps.clock.now(), outcome=outcome, client=client)
    return Refused(shown=shown)


async def _open(deps: ConsoleDeps, session: AsyncSession, user: ConsoleUser, *, rehashed: str | None, now: datetime, client: str | None, replacing: str | None) -> SignedIn:
    """Opens a session in the sign-in's transaction; it replaces the browser's earlier one (no fixation) and clears those that ended."""
    user.failed_attempts, user.locked_until = 0, None
    user.password_hash = rehashed or user.password_hash
    token = new_token()
    opened = ConsoleSession(id=session_id(token), user_id=user.id, csrf_token=new_token(), created_at=now, last_seen=now, expires_at=now + deps.policy.lifetime)
    await session.exec(delete(ConsoleSession).where((col(ConsoleSession.expires_at) < now) | (col(ConsoleSession.id) == (replacing or ""))))
    session.add(user)
    session.add(opened)
    audit.record(session, _as(user), action="console.sign_in", target=f"user:{user.username}", now=deps.clock.now(), outcome=Attempt.ok, client=client)
    return SignedIn(token=token, visitor=_visitor(user, opened))


async def _stranger(deps: ConsoleDeps, *, name: str, password: str, now: datetime, client: str | None) -> Refused:
    """Answers an unknown username exactly as a known one: the same time spent, the same lock after the same failures."""
    if deps.strangers.locked(name, now=now):
        shown = Attempt.locked
    else:
        await deps.passwords.spend(password)
        shown = Attempt.locked if deps.strangers.fail(name, now=now, policy=deps.policy) else Attempt.wrong_password
    async with deps.db.transaction() as session:
        audit.record(session, CONSOLE, action="console.sign_in", target=f"user:{name[:64]}", now=deps.clock.now(), outcome=Attempt.unknown_user, client=client)
    return Refused(shown=shown)


async def _refuse(deps: ConsoleDeps, user: ConsoleUser, attempt: Attempt, *, client: str | None) -> Refused:
    async with deps.db.transaction() as session:
        audit.record(session, _as(user), action="console.sign_in", target=f"user:{user.username}", now=deps.clock.now(), outcome=attempt, client=client)
    return Refused(shown=attempt)


async def visit(deps: ConsoleDeps, *, token: str) -> Visitor | None:
    """Returns the person whose live session the cookie's token opens, noting the visit; None for an unknown, ended or disabled one."""
    now, key = deps.wall.now(), session_id(token)
    async with deps.db.sessions() as session:
        found = (await session.exec(select(ConsoleSession, ConsoleUser).join(ConsoleUser).where(ConsoleSession.id == key))).first()
    if found is None:
        return None
    opened, user = found
    if user.disabled or session_end(last_seen=opened.last_seen, expires_at=opened.expires_at, policy=deps.policy) <= now:
        async with deps.db.transaction() as session:
            await session.exec(delete(ConsoleSession).where(col(ConsoleSession.id) == key))
        return None
    if now - opened.last_seen >= timedelta(seconds=TOUCH_EVERY_S):
        async with deps.db.transaction() as session:
            stored = await session.get(ConsoleSession, key)
            if stored is not None:
                stored.last_seen = now
                session.add(stored)
    return _visitor(user, opened)


async def sign_out(deps: ConsoleDeps, *, visitor: Visitor, client: str | None) -> None:
    """Ends the session and audits it."""
    async with deps.db.transaction() as session:
        await session.exec(delete(ConsoleSession).where(col(ConsoleSession.id) == visitor.session_id))
        audit.record(session, visitor.principal, action="console.sign_out", target=f"user:{visitor.username}", now=deps.clock.now(), client=client)


async def add_user(deps: ConsoleDeps, *, user: NewUser) -> ConsoleUser:
    """Adds a user with a fresh Argon2id hash of the password; 409 when the username is taken."""
    password_hash = await deps.passwords.hash(user.password)
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        if await _user(session, user.username) is not None:
            raise Problem(409, "Username taken", f"username: {user.username} is taken", errors=[{"field": "username", "message": "is taken"}])
        row = ConsoleUser(
            id=str(uuid.uuid4()),
            username=user.username,
            display_name=user.display_name,
            role=user.role.value,
            scope=user.scope,
            password_hash=password_hash,
            created_at=now,
        )
        session.add(row)
        audit.record(session, OPERATOR, action="console.user_add", target=f"user:{user.username}", now=now, purpose=f"{user.role.value} {user.scope}")
    return row


async def users(deps: ConsoleDeps) -> Sequence[ConsoleUser]:
    """Returns every user, by username."""
    async with deps.db.sessions() as session:
        return (await session.exec(select(ConsoleUser).order_by(col(ConsoleUser.username)))).all()


async def disable_user(deps: ConsoleDeps, *, username: str) -> bool:
    """Disables a user and ends their sessions at once; False when there is no such user."""
    async with deps.db.transaction() as session:
        user = await _user(session, _normal(username), lock=True)
        if user is None:
            return False
        user.disabled = True
        session.add(user)
        await session.exec(delete(ConsoleSession).where(col(ConsoleSession.user_id) == user.id))
        audit.record(session, OPERATOR, action="console.user_disable", target=f"user:{user.username}", now=deps.clock.now())
    return True


async def add_missing(deps: ConsoleDeps, *, accounts: Sequence[NewUser]) -> list[str]:
    """Adds the accounts whose usernames are free and returns their usernames; existing ones are left as they are."""
    added = []
    for account in accounts:
        async with deps.db.sessions() as session:
            if await _user(session, account.username) is not None:
                continue
        try:
            await add_user(deps, user=account)
        except Problem as exc:
            # 409: another process added it meanwhile, so it is there, as wanted.
            if exc.status != 409:
                raise
            continue
        added.append(account.username)
    return added
