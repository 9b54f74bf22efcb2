"""The console's accounts: Argon2id hashes, who may be a user with which scope, signing in with lockout, and the audit of every attempt."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from pydantic import ValidationError

from services.console.accounts import NewUser
from services.console.domain import SignInPolicy, after_failure, is_locked
from services.console.handlers import people
from services.console.handlers.people import Attempt, Refused, SignedIn
from services.console.passwords import Passwords
from services.console.strangers import Strangers
from shared.plumbing.auth import Role
from tests import consoles
from tests.consoles import NOW, PASSWORD, Console, on_wall


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with consoles.console(tmp_path) as built:
        yield built


async def test_a_password_is_stored_as_an_argon2id_hash_that_verifies_it_alone() -> None:
    passwords = Passwords()
    stored = await passwords.hash(PASSWORD)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert await passwords.verify(stored, PASSWORD)
    assert not await passwords.verify(stored, PASSWORD + "!")
    assert not await passwords.verify("not a hash", PASSWORD)
    assert await passwords.hash(PASSWORD) != stored, "every hash has its own salt"


async def test_a_hash_made_with_weaker_parameters_is_outdated_and_replaced_at_sign_in(console: Console) -> None:
    await console.add("agent-1")
    assert (await console.user("agent-1")).password_hash.startswith("$argon2id$v=19$m=8,t=1")
    object.__setattr__(console.deps, "passwords", Passwords(PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)))
    assert isinstance(await people.sign_in(console.deps, username="agent-1", password=PASSWORD, client=None), SignedIn)
    rehashed = (await console.user("agent-1")).password_hash
    assert rehashed.startswith("$argon2id$v=19$m=16,t=2") and await console.deps.passwords.verify(rehashed, PASSWORD)


@pytest.mark.parametrize(
    ("role", "scope", "stored"),
    [
        (Role.court, "C371002", "C371002"),
        (Role.agent, "agent-huancui-1", "agent-huancui-1"),
        (Role.lawyer, "31371000md0543210e", "31371000MD0543210E"),
        (Role.supervisor, "", "person-1"),
        (Role.auditor, "person-1", "person-1"),
    ],
)
def test_each_role_has_the_scope_its_tokens_name(role: Role, scope: str, stored: str) -> None:
    user = NewUser(username="person-1", role=role, scope=scope, password=PASSWORD)
    assert user.scope == stored and user.display_name == "person-1"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"role": Role.service}, "role"),
        ({"role": Role.lawyer, "scope": "31371000MD0543210X"}, "scope"),
        ({"role": Role.court, "scope": "环翠"}, "scope"),
        ({"role": Role.agent, "scope": ""}, "scope"),
        ({"role": Role.supervisor, "scope": "someone-else"}, "scope"),
        ({"username": "Has Space"}, "username"),
        ({"password": "short"}, "password"),
    ],
)
def test_a_user_that_cannot_be_is_refused_naming_the_field(changes: dict[str, object], field: str) -> None:
    values: dict[str, object] = {"username": "person-1", "role": Role.agent, "scope": "agent-1", "password": PASSWORD} | changes
    with pytest.raises(ValidationError) as refused:
        NewUser.model_validate(values)
    assert field in str(refused.value)


def test_the_last_allowed_failure_locks_for_the_lockout_and_starts_the_count_anew() -> None:
    policy = SignInPolicy(attempts=3, lockout=timedelta(minutes=15))
    assert after_failure(0, now=NOW, policy=policy) == (1, None)
    assert after_failure(1, now=NOW, policy=policy) == (2, None)
    assert after_failure(2, now=NOW, policy=policy) == (0, NOW + timedelta(minutes=15))
    assert is_locked(NOW + timedelta(minutes=15), now=NOW + timedelta(minutes=14, seconds=59))
    assert not is_locked(NOW + timedelta(minutes=15), now=NOW + timedelta(minutes=15))
    assert not is_locked(None, now=NOW)


async def test_five_wrong_passwords_lock_the_username_even_against_the_right_one_until_the_lock_ends(console: Console) -> None:
    wall = on_wall(console)
    await console.add("agent-1")
    shown = [await people.sign_in(console.deps, username="agent-1", password="wrong password", client="198.51.100.1") for _ in range(5)]
    assert [r.shown for r in shown if isinstance(r, Refused)] == [Attempt.wrong_password] * 4 + [Attempt.locked]
    assert (await console.user("agent-1")).locked_until == NOW + timedelta(minutes=15)
    assert await people.sign_in(console.deps, username="agent-1", password=PASSWORD, client=None) == Refused(shown=Attempt.locked)
    wall.at = NOW + timedelta(minutes=15)
    assert isinstance(await people.sign_in(console.deps, username="AGENT-1 ", password=PASSWORD, client=None), SignedIn)
    user = await console.user("agent-1")
    assert (user.failed_attempts, user.locked_until) == (0, None)


async def test_a_success_clears_the_failures_so_far(console: Console) -> None:
    on_wall(console)
    await console.add("agent-1")
    for _ in range(4):
        await people.sign_in(console.deps, username="agent-1", password="wrong password", client=None)
    assert (await console.user("agent-1")).failed_attempts == 4
    assert isinstance(await people.sign_in(console.deps, username="agent-1", password=PASSWORD, client=None), SignedIn)
    assert (await console.user("agent-1")).failed_attempts == 0


async def test_an_unknown_username_answers_and_locks_exactly_as_a_known_one(console: Console) -> None:
    on_wall(console)
    await console.add("agent-1")
    known = [(await people.sign_in(console.deps, username="agent-1", password="wrong password", client=None)) for _ in range(6)]
    unknown = [(await people.sign_in(console.deps, username="nobody", password="wrong password", client=None)) for _ in range(6)]
    assert known == unknown
    assert [r.shown for r in unknown if isinstance(r, Refused)] == [Attempt.wrong_password] * 4 + [Attempt.locked] * 2


def test_strangers_forget_the_oldest_names_first() -> None:
    strangers = Strangers(remembered=2)
    policy = SignInPolicy(attempts=1)
    assert strangers.fail("a", now=NOW, policy=policy) and strangers.fail("b", now=NOW, policy=policy) and strangers.fail("c", now=NOW, policy=policy)
    assert [strangers.locked(name, now=NOW) for name in "abc"] == [False, True, True]


async def test_a_disabled_user_cannot_sign_in_and_only_the_right_password_learns_why(console: Console) -> None:
    on_wall(console)
    await console.add("agent-1")
    assert await people.disable_user(console.deps, username="agent-1")
    assert await people.sign_in(console.deps, username="agent-1", password=PASSWORD, client=None) == Refused(shown=Attempt.disabled)
    assert await people.sign_in(console.deps, username="agent-1", password="wrong password", client=None) == Refused(shown=Attempt.wrong_password)
    assert not await people.disable_user(console.deps, username="nobody")


async def test_every_attempt_is_audited_with_its_outcome_and_address_and_never_the_password(console: Console) -> None:
    wall = on_wall(console)
    await console.add("agent-1")
    await console.add("agent-2")
    await people.disable_user(console.deps, username="agent-2")
    for username, password in [("agent-1", "wrong password 1"), ("nobody", "wrong password 2"), ("agent-1", PASSWORD), ("agent-2", PASSWORD)]:
        await people.sign_in(console.deps, username=username, password=password, client="198.51.100.1")
        wall.at += timedelta(seconds=1)
    for _ in range(5):
        await people.sign_in(console.deps, username="agent-1", password="wrong password 3", client="198.51.100.1")
        wall.at += timedelta(seconds=1)
    await people.sign_in(console.deps, username="agent-1", password=PASSWORD, client="198.51.100.1")
    entries = await console.audit()
    assert [(e.actor_role, e.actor_sub, e.target, e.outcome) for e in entries[:4]] == [
        ("agent", "agent-1", "user:agent-1", "wrong_password"),
        ("service", "console", "user:nobody", "unknown_user"),
        ("agent", "agent-1", "user:agent-1", "ok"),
        ("agent", "agent-2", "user:agent-2", "disabled"),
    ]
    assert [e.outcome for e in entries[4:]] == ["wrong_password"] * 5 + ["locked"]
    assert {e.client for e in entries} == {"198.51.100.1"}
    assert not any("wrong password" in str(e.model_dump()) or PASSWORD in str(e.model_dump()) for e in entries)


async def test_adding_a_taken_username_is_refused_and_the_demo_accounts_are_added_once(console: Console) -> None:
    from services.console.demo import DEMO_ACCOUNTS
    from shared.plumbing.problems import Problem

    await console.add("agent-1")
    with pytest.raises(Problem) as taken:
        await console.add("agent-1")
    assert taken.value.status == 409
    assert await people.add_missing(console.deps, accounts=DEMO_ACCOUNTS) == [a.username for a in DEMO_ACCOUNTS]
    assert await people.add_missing(console.deps, accounts=DEMO_ACCOUNTS) == []
    roles = {u.username: (u.role, u.scope) for u in await people.users(console.deps)}
    assert roles["agent-huancui-1"] == ("agent", "agent-huancui-1") and roles["court-huancui"] == ("court", "C371002")
    assert {role for role, _ in roles.values()} == {"court", "agent", "supervisor", "lawyer", "auditor"}
