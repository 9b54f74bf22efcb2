"""The side-effect ledger on a real SQLite file: each outside call is made at most once per key."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.plumbing.clock import RealClock
from shared.plumbing.db import Database, create_tables, table_of
from shared.plumbing.ledger import Effect, EffectStatus, NotWanted, SideEffect, SideEffectInDoubt, perform, perform_all

CLOCK = RealClock()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'ledger.db'}")
    await create_tables(database.engine, [table_of(SideEffect)])
    yield database
    await database.dispose()


class Counter:
    """An outside call that counts how often it is made and answers or raises as told."""

    def __init__(self, result: dict[str, Any] | None = None, error: Exception | None = None) -> None:
        self.calls = 0
        self.result = result if result is not None else {"message_id": "m-1"}
        self.error = error

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.result


def answering(value: dict[str, Any] | None) -> tuple[list[int], Callable[[], Awaitable[dict[str, Any] | None]]]:
    asked: list[int] = []

    async def reconcile() -> dict[str, Any] | None:
        asked.append(1)
        return value

    return asked, reconcile


async def entry(db: Database, key: str) -> SideEffect | None:
    async with db.sessions() as session:
        return await session.get(SideEffect, key)


async def fail_once(db: Database, key: str) -> None:
    """Leaves `key` requested with an unknown outcome, as a crash mid-call would."""
    with pytest.raises(TimeoutError):
        await perform(db, key=key, kind="sms", clock=CLOCK, call=Counter(error=TimeoutError("no answer")))


async def test_first_perform_calls_once_and_records(db: Database) -> None:
    call = Counter({"message_id": "m-1", "status": "queued"})
    assert await perform(db, key="sms:n-1:1", kind="sms", clock=CLOCK, call=call) == {"message_id": "m-1", "status": "queued"}
    assert call.calls == 1
    recorded = await entry(db, "sms:n-1:1")
    assert recorded is not None
    assert recorded.status == EffectStatus.done
    assert recorded.kind == "sms"
    assert recorded.result == {"message_id": "m-1", "status": "queued"}
    assert recorded.completed_at is not None and recorded.completed_at >= recorded.requested_at


async def test_repeat_returns_recorded_result_without_calling(db: Database) -> None:
    await perform(db, key="k", kind="sms", clock=CLOCK, call=Counter({"message_id": "first"}))
    again = Counter({"message_id": "second"})
    asked, reconcile = answering({"message_id": "reconciled"})
    assert await perform(db, key="k", kind="sms", clock=CLOCK, call=again, reconcile=reconcile) == {"message_id": "first"}
    assert again.calls == 0
    assert asked == []


async def test_keys_are_independent(db: Database) -> None:
    first, second = Counter({"n": 1}), Counter({"n": 2})
    assert await perform(db, key="a", kind="sms", clock=CLOCK, call=first) == {"n": 1}
    assert await perform(db, key="b", kind="sms", clock=CLOCK, call=second) == {"n": 2}
    assert (first.calls, second.calls) == (1, 1)


async def test_raising_call_leaves_entry_requested(db: Database) -> None:
    call = Counter(error=TimeoutError("no answer"))
    with pytest.raises(TimeoutError):
        await perform(db, key="k", kind="call", clock=CLOCK, call=call)
    assert call.calls == 1
    recorded = await entry(db, "k")
    assert recorded is not None
    assert recorded.status == EffectStatus.requested
    assert recorded.result is None and recorded.completed_at is None


async def test_in_doubt_without_reconcile(db: Database) -> None:
    await fail_once(db, "k")
    call = Counter()
    with pytest.raises(SideEffectInDoubt, match="k"):
        await perform(db, key="k", kind="sms", clock=CLOCK, call=call)
    assert call.calls == 0
    assert (await entry(db, "k")).status == EffectStatus.requested  # type: ignore[union-attr]


async def test_reconcile_result_is_recorded_without_calling(db: Database) -> None:
    await fail_once(db, "k")
    call = Counter()
    asked, reconcile = answering({"message_id": "found-at-provider"})
    assert await perform(db, key="k", kind="sms", clock=CLOCK, call=call, reconcile=reconcile) == {"message_id": "found-at-provider"}
    assert (call.calls, len(asked)) == (0, 1)
    recorded = await entry(db, "k")
    assert recorded is not None and recorded.status == EffectStatus.done
    assert recorded.result == {"message_id": "found-at-provider"}
    # Once recorded, neither is asked again.
    assert await perform(db, key="k", kind="sms", clock=CLOCK, call=call, reconcile=reconcile) == {"message_id": "found-at-provider"}
    assert (call.calls, len(asked)) == (0, 1)


async def test_reconcile_none_calls_once(db: Database) -> None:
    await fail_once(db, "k")
    call = Counter({"message_id": "retried"})
    asked, reconcile = answering(None)
    assert await perform(db, key="k", kind="sms", clock=CLOCK, call=call, reconcile=reconcile) == {"message_id": "retried"}
    assert (call.calls, len(asked)) == (1, 1)
    assert await perform(db, key="k", kind="sms", clock=CLOCK, call=call, reconcile=reconcile) == {"message_id": "retried"}
    assert (call.calls, len(asked)) == (1, 1)
    recorded = await entry(db, "k")
    assert recorded is not None and recorded.status == EffectStatus.done and recorded.result == {"message_id": "retried"}


async def test_definite_refusal_is_recorded(db: Database) -> None:
    # A refusal is a result too: it is recorded and not retried.
    refusal = {"error": "invalid_number"}
    first, second = Counter(refusal), Counter({"message_id": "m-2"})
    assert await perform(db, key="k", kind="sms", clock=CLOCK, call=first) == refusal
    assert await perform(db, key="k", kind="sms", clock=CLOCK, call=second) == refusal
    assert (first.calls, second.calls) == (1, 0)


async def test_unwanted_call_claims_nothing_and_is_not_made(db: Database) -> None:
    async def withdrawn(session: AsyncSession) -> bool:
        return False

    call = Counter()
    with pytest.raises(NotWanted, match="k"):
        await perform(db, key="k", kind="sms", clock=CLOCK, call=call, wanted=withdrawn)
    assert call.calls == 0
    assert await entry(db, "k") is None


async def test_wanted_call_is_made_once(db: Database) -> None:
    asked: list[int] = []

    async def pending(session: AsyncSession) -> bool:
        asked.append(1)
        return True

    call = Counter({"message_id": "m-1"})
    assert await perform(db, key="k", kind="sms", clock=CLOCK, call=call, wanted=pending) == {"message_id": "m-1"}
    assert await perform(db, key="k", kind="sms", clock=CLOCK, call=call, wanted=pending) == {"message_id": "m-1"}
    assert (call.calls, len(asked)) == (1, 2)


async def test_perform_all_settles_each_effect_as_perform_would(db: Database) -> None:
    await perform(db, key="done", kind="sms", clock=CLOCK, call=Counter({"message_id": "earlier"}))
    await fail_once(db, "doubt")
    await fail_once(db, "found")
    fresh, lost, unwanted, repeat, doubtful = Counter({"message_id": "new"}), Counter(error=TimeoutError("no answer")), Counter(), Counter(), Counter()
    asked, reconcile = answering({"message_id": "reconciled"})

    async def all_but_unwanted(session: AsyncSession, keys: Sequence[str]) -> list[str]:
        return [key for key in keys if key != "unwanted"]

    effects = [
        Effect("fresh", "sms", fresh),
        Effect("lost", "sms", lost),
        Effect("unwanted", "sms", unwanted),
        Effect("done", "sms", repeat),
        Effect("doubt", "sms", doubtful),
        Effect("found", "sms", Counter(), reconcile),
    ]
    outcomes = await perform_all(db, effects, clock=CLOCK, wanted=all_but_unwanted)
    assert outcomes[0] == {"message_id": "new"} and outcomes[3] == {"message_id": "earlier"} and outcomes[5] == {"message_id": "reconciled"}
    assert isinstance(outcomes[1], TimeoutError) and isinstance(outcomes[2], NotWanted) and isinstance(outcomes[4], SideEffectInDoubt)
    assert (fresh.calls, lost.calls, unwanted.calls, repeat.calls, doubtful.calls, len(asked)) == (1, 1, 0, 0, 0, 1)
    statuses = {key: (await entry(db, key)) for key in ("fresh", "lost", "unwanted", "found")}
    assert statuses["fresh"] is not None and statuses["fresh"].status == EffectStatus.done
    assert statuses["found"] is not None and statuses["found"].result == {"message_id": "reconciled"}
    assert statuses["lost"] is not None and statuses["lost"].status == EffectStatus.requested
    assert statuses["unwanted"] is None


async def test_perform_all_refuses_a_key_twice(db: Database) -> None:
    call = Counter()
    with pytest.raises(ValueError, match="distinct"):
        await perform_all(db, [Effect("k", "sms", call), Effect("k", "sms", call)], clock=CLOCK)
    assert call.calls == 0
    assert await entry(db, "k") is None
