"""Evidence's handlers on a SQLite file with the fake court port: consumed events logged into a report, pushes delivered, retried and given up, and the real push adapter against respx."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx
from sqlmodel import select

from services.evidence import access, handlers
from services.evidence.adapters.courts import SIGNATURE_HEADER, FakeCourtWebhooks, HttpCourtWebhooks, Push
from services.evidence.blobs import BlobStore
from services.evidence.consumers import HANDLERS
from services.evidence.deps import EvidenceDeps
from services.evidence.models import TABLES, EvidenceCheckpoint, EvidenceCourtHook, EvidenceCourtPush, EvidenceNotice, EvidenceReport, EvidenceTask
from services.evidence.signer import Signer
from services.evidence.targets import TargetPolicy, networks
from shared.contracts.checkpoints import DEV_SIGNING_SEED
from shared.contracts.events import AttemptStarted, TaskAssigned
from shared.contracts.registry import decode
from shared.contracts.report import canonical
from shared.plumbing.auth import Principal, Role
from shared.plumbing.backoff import Backoff
from shared.plumbing.consumer import MessageContext
from shared.plumbing.db import Database, create_tables
from shared.plumbing.outbox import OutboxMessage
from shared.plumbing.runtime import PLUMBING_TABLES
from tests import histories

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
LOCAL = TargetPolicy(require_https=False, allowed=networks(["127.0.0.1/32"]))


class Clock:
    """A clock that stands still until a test moves it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
async def deps(tmp_path: Path) -> AsyncIterator[EvidenceDeps]:
    db = Database(f"sqlite:///{tmp_path / 'evidence.db'}")
    await create_tables(db.engine, [*PLUMBING_TABLES, *TABLES])
    yield EvidenceDeps(
        db=db,
        clock=Clock(NOW),
        signer=Signer(origin="songda.evidence/log", seed=DEV_SIGNING_SEED),
        blobs=BlobStore(tmp_path / "blobs"),
        max_upload_bytes=1024,
        webhook_policy=LOCAL,
        courts=FakeCourtWebhooks(),
        push_attempts=2,
        push_backoff=Backoff(initial=60, maximum=60),
    )
    await db.dispose()


async def consume(deps: EvidenceDeps, history: histories.History) -> None:
    """Hands each event of the history to its handler and then to the catch-all, each in its own transaction, as the consumer does."""
    for source, event in history.events:
        envelope = event.envelope(source=f"songda/{source}", subject=history.notice_id, time=deps.clock.now(), correlationid=history.notice_id)
        async with deps.db.transaction() as session:
            message = MessageContext(session=session, envelope=envelope, raw=envelope.to_bytes(), clock=deps.clock, source="songda/evidence")
            if (handler := HANDLERS.get(envelope.type)) is not None:
                await handler(deps, message=message, event=decode(envelope))
            await handlers.record(deps, message=message)


async def test_consumed_events_are_logged_and_the_completed_notice_reported_and_queued_for_its_court(deps: EvidenceDeps) -> None:
    async with deps.db.transaction() as session:
        session.add(EvidenceCourtHook(court_id=histories.COURT, url="http://127.0.0.1:9/reports", secret="s", registered_at=NOW))
    history = histories.direct(histories.registered())
    # As delivery publishes them: the visit's task is assigned while its attempt runs.
    [assigned] = [pair for pair in history.events if isinstance(pair[1], TaskAssigned)]
    history.events.remove(assigned)
    history.events.insert(2, assigned)
    await consume(deps, history)
    async with deps.db.sessions() as session:
        assert (await session.get(EvidenceNotice, history.notice_id)) is not None
        [task] = (await session.exec(select(EvidenceTask))).all()
        [report] = (await session.exec(select(EvidenceReport))).all()
        [push] = (await session.exec(select(EvidenceCourtPush))).all()
        published = [m.event_type for m in (await session.exec(select(OutboxMessage))).all()]
    # The visit's attempt succeeded: its task closed with it.
    assert isinstance(history.events[1][1], AttemptStarted) and task.closed
    assert (report.version, report.document["recipients"][0]["signer_name"]) == (1, "李四")
    assert len(report.document["recipients"][0]["attempts"][0]["evidence"]) == 1
    assert (push.version, push.status) == (1, "pending") and published == ["evidence.ReportIssued"]
    assert len(await handlers.read_timeline(deps, principal=Principal(histories.COURT, Role.court), notice_id=history.notice_id)) == len(history.events)


async def test_a_task_assigned_again_changes_hands(deps: EvidenceDeps) -> None:
    history = histories.direct(histories.registered())
    [assigned] = [event for _, event in history.events if isinstance(event, TaskAssigned)]
    reassigned = assigned.model_copy(update={"agent_id": "agent-weihai"})
    events = [history.events[0], ("delivery", assigned), ("delivery", reassigned)]
    await consume(deps, histories.History(notice_id=history.notice_id, recipient_id=history.recipient_id, events=events))
    async with deps.db.sessions() as session:
        [task] = (await session.exec(select(EvidenceTask))).all()
    assert (task.task_id, task.agent_id, task.closed) == (assigned.task_id, "agent-weihai", False)
    assert access.works_on(Principal("agent-weihai", Role.agent), task) and not access.works_on(Principal(assigned.agent_id, Role.agent), task)


async def _owe(deps: EvidenceDeps) -> None:
    """Stores a report version and the push owed for it."""
    async with deps.db.transaction() as session:
        session.add(EvidenceCourtHook(court_id=histories.COURT, url="http://127.0.0.1:9/reports", secret="s", registered_at=NOW))
        session.add(EvidenceReport(notice_id="n-1", version=1, report_id="r-1", court_id=histories.COURT, sha256="0" * 64, document={"b": 1, "a": "送达"}, covers=1, issued_at=NOW))
        session.add(EvidenceCourtPush(notice_id="n-1", version=1, court_id=histories.COURT, status="pending", next_try_at=NOW))


async def _push(deps: EvidenceDeps) -> EvidenceCourtPush:
    async with deps.db.sessions() as session:
        return (await session.exec(select(EvidenceCourtPush))).one()


async def test_a_due_push_is_delivered_once_with_the_report_as_sealed(deps: EvidenceDeps) -> None:
    await _owe(deps)
    assert await handlers.push_report(deps) is True
    assert await handlers.push_report(deps) is False
    assert isinstance(deps.courts, FakeCourtWebhooks)
    [(sent, at)] = deps.courts.pushes
    assert sent == Push(url="http://127.0.0.1:9/reports", secret="s", body=canonical({"b": 1, "a": "送达"}), idempotency_key="r-1:1") and at == NOW
    push = await _push(deps)
    assert (push.status, push.tries, push.delivered_at, push.last_error) == ("delivered", 1, NOW, None)


async def test_a_refused_push_waits_its_backoff_and_is_given_up_after_the_last_try(deps: EvidenceDeps) -> None:
    court = FakeCourtWebhooks(["HTTP 503", "ConnectError"])
    deps = replace(deps, courts=court)
    await _owe(deps)
    assert await handlers.push_report(deps) is True
    push = await _push(deps)
    assert (push.status, push.tries, push.last_error) == ("pending", 1, "HTTP 503")
    # Jittered down by at most a fifth from the minute the backoff asks.
    assert NOW + timedelta(seconds=48) <= push.next_try_at <= NOW + timedelta(seconds=60)
    assert await handlers.push_report(deps) is False
    assert isinstance(deps.clock, Clock)
    deps.clock.at = push.next_try_at
    assert await handlers.push_report(deps) is True
    push = await _push(deps)
    assert (push.status, push.tries, push.last_error) == ("failed", 2, "ConnectError")
    assert len(court.pushes) == 2


async def test_a_checkpoint_is_signed_once_the_log_holds_anything(deps: EvidenceDeps) -> None:
    await handlers.sign_checkpoint(deps)
    async with deps.db.sessions() as session:
        assert (await session.exec(select(EvidenceCheckpoint))).all() == []
    await consume(deps, histories.registered())
    await handlers.sign_checkpoint(deps)
    await handlers.sign_checkpoint(deps)
    checkpoint = await handlers.latest_checkpoint(deps)
    assert (checkpoint.size, checkpoint.origin) == (1, "songda.evidence/log")


@respx.mock
async def test_the_http_adapter_signs_the_body_and_connects_to_the_address_it_checked() -> None:
    courts = HttpCourtWebhooks(http=httpx.AsyncClient(), policy=LOCAL, timeout_s=1.0)
    push = Push(url="http://127.0.0.1:9/reports?court=C371002", secret="s3cret", body=b'{"a":1}', idempotency_key="r-1:2")
    route = respx.post("http://127.0.0.1:9/reports?court=C371002").mock(side_effect=[httpx.Response(204), httpx.Response(500), httpx.ConnectError("down")])
    try:
        assert await courts.push(push, now=NOW) is None
        request = route.calls[0].request
        stamp = int(NOW.timestamp())
        mac = hmac.new(b"s3cret", f"{stamp}.".encode() + push.body, hashlib.sha256).hexdigest()
        assert request.headers[SIGNATURE_HEADER] == f"t={stamp},v1={mac}"
        assert (request.headers["idempotency-key"], request.headers["host"], request.content) == ("r-1:2", "127.0.0.1:9", push.body)
        assert await courts.push(push, now=NOW) == "HTTP 500"
        assert await courts.push(push, now=NOW) == "ConnectError"
        # An internal address is refused before any request, at every push.
        refused = await courts.push(replace(push, url="http://10.1.2.3/reports"), now=NOW)
        assert refused is not None and refused.startswith("refused: ") and route.call_count == 3
    finally:
        await courts.close()
