"""Evidence's handlers on a SQLite file with the fake court port: consumed events logged into a report, pushes delivered, retried and given up, the real push adapter against respx, report versions listed and each rendered as PDF once."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx
from sqlmodel import select

from services.evidence import access, handlers
from services.evidence.adapters.courts import SIGNATURE_HEADER, FakeCourtWebhooks, HttpCourtWebhooks, Push
from services.evidence.consumers import HANDLERS
from services.evidence.deps import EvidenceDeps
from services.evidence.items import UploadMetadata
from services.evidence.models import EvidenceCheckpoint, EvidenceCourtHook, EvidenceCourtPush, EvidenceNotice, EvidenceReport, EvidenceTask
from shared.contracts.events import AttemptStarted, TaskAssigned
from shared.contracts.evidence import EvidenceKind, PhotoScene
from shared.contracts.registry import decode
from shared.contracts.report import DeliveryReport, canonical
from shared.plumbing.audit import AuditEntry
from shared.plumbing.auth import Principal, Role
from shared.plumbing.consumer import BatchWork, MessageContext
from shared.plumbing.outbox import OutboxMessage
from shared.plumbing.problems import Problem
from tests import histories
from tests.evidences import LOCAL, evidence_deps
from tests.reports import sample_report
from tests.support import Clock

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


@pytest.fixture
async def deps(tmp_path: Path) -> AsyncIterator[EvidenceDeps]:
    async with evidence_deps(tmp_path, now=NOW) as built:
        yield built


async def consume(deps: EvidenceDeps, history: histories.History, *, together: Sequence[Sequence[int]] | None = None) -> None:
    """Hands each event of the history to its handler and then to the catch-all, each in its own transaction (or the events at each group of indexes in `together` in one) flushed before commit, as the consumer does."""
    for group in together if together is not None else [[index] for index in range(len(history.events))]:
        async with deps.db.transaction() as session:
            batch = BatchWork()
            for index in group:
                source, event = history.events[index]
                envelope = event.envelope(source=f"songda/{source}", subject=history.notice_id, time=deps.clock.now(), correlationid=history.notice_id)
                message = MessageContext(session=session, envelope=envelope, raw=envelope.to_bytes(), clock=deps.clock, source="songda/evidence", batch=batch)
                if (handler := HANDLERS.get(envelope.type)) is not None:
                    await handler(deps, message=message, event=decode(envelope))
                await handlers.record(deps, message=message)
            await batch.flush(session)


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


async def test_an_upload_finds_its_notice_and_task_and_is_refused_for_any_other(deps: EvidenceDeps) -> None:
    history = histories.direct(histories.registered())
    other = histories.direct(histories.registered())
    await consume(deps, history)
    await consume(deps, other)
    [assigned] = [event for _, event in history.events if isinstance(event, TaskAssigned)]
    [elsewhere] = [event for _, event in other.events if isinstance(event, TaskAssigned)]
    agent = Principal(assigned.agent_id, Role.agent)

    async def target(principal: Principal, **meta: str) -> tuple[str | None, str | None]:
        async with deps.db.sessions() as session:
            fields = {"notice_id": history.notice_id, "kind": EvidenceKind.photo, "scene": PhotoScene.visit} | meta
            notice, task = await access.upload_target(session, principal, UploadMetadata.model_validate(fields))
        return (notice.id if notice else None, task.task_id if task else None)

    assert await target(agent, task_id=assigned.task_id) == (history.notice_id, assigned.task_id)
    assert await target(Principal("sup-1", Role.supervisor)) == (history.notice_id, None)
    refusals = [
        (agent, {"notice_id": "n-unknown", "task_id": assigned.task_id}, 422),
        (agent, {"task_id": "t-unknown"}, 409),
        (agent, {"task_id": elsewhere.task_id}, 422),
        (agent, {}, 403),
    ]
    for principal, meta, status in refusals:
        with pytest.raises(Problem) as refused:
            await target(principal, **meta)
        assert refused.value.status == status, meta


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


class Typesetter:
    """Stands in for WeasyPrint: a PDF naming the version it was asked for, counting the renders and failing for the notices it is told to."""

    def __init__(self, failing: tuple[str, ...] = ()) -> None:
        self.rendered: list[tuple[str, int]] = []
        self.failing = failing

    def __call__(self, report: DeliveryReport) -> bytes:
        if report.notice_id in self.failing:
            raise RuntimeError("no Chinese font")
        self.rendered.append((report.notice_id, report.version))
        return f"%PDF-1.7 {report.notice_id} v{report.version}".encode()


async def _issue(deps: EvidenceDeps, notice_id: str, version: int, *, after_s: int = 0, court_id: str = histories.COURT) -> None:
    """Stores a version of a notice's report, issued `after_s` seconds after NOW."""
    document = sample_report().model_copy(update={"notice_id": notice_id, "version": version}).model_dump(mode="json")
    async with deps.db.transaction() as session:
        session.add(
            EvidenceReport(
                notice_id=notice_id,
                version=version,
                report_id=f"r-{notice_id}",
                court_id=court_id,
                sha256=f"{version:064x}",
                document=document,
                covers=1,
                issued_at=NOW + timedelta(seconds=after_s),
            )
        )


async def _pdf_sha256s(deps: EvidenceDeps) -> dict[tuple[str, int], str | None]:
    async with deps.db.sessions() as session:
        return {(r.notice_id, r.version): r.pdf_sha256 for r in (await session.exec(select(EvidenceReport))).all()}


async def test_a_version_asked_for_by_several_at_once_is_rendered_once_and_then_served_as_stored(deps: EvidenceDeps, monkeypatch: pytest.MonkeyPatch) -> None:
    typesetter = Typesetter()
    monkeypatch.setattr(handlers.rendering, "render_pdf", typesetter)
    await _issue(deps, "n-1", 1)
    await _issue(deps, "n-1", 2, after_s=60)
    court = Principal(histories.COURT, Role.court)

    answers = await asyncio.gather(*(handlers.report_pdf(deps, principal=court, notice_id="n-1", version=None, client=None) for _ in range(3)))
    assert typesetter.rendered == [("n-1", 2)]
    [sha256] = {answer.sha256 for answer in answers}
    assert {answer.version for answer in answers} == {2}
    assert deps.blobs.path(sha256).read_bytes() == b"%PDF-1.7 n-1 v2" and sha256 == hashlib.sha256(b"%PDF-1.7 n-1 v2").hexdigest()
    assert await _pdf_sha256s(deps) == {("n-1", 1): None, ("n-1", 2): sha256}

    # Served as stored from then on; an older version is rendered on its own first request.
    again = await handlers.report_pdf(deps, principal=court, notice_id="n-1", version=None, client=None)
    first = await handlers.report_pdf(deps, principal=court, notice_id="n-1", version=1, client=None)
    assert again.sha256 == sha256 and (first.version, first.sha256 != sha256) == (1, True) and typesetter.rendered == [("n-1", 2), ("n-1", 1)]
    with pytest.raises(Problem) as missing:
        await handlers.report_pdf(deps, principal=court, notice_id="n-1", version=3, client=None)
    assert missing.value.status == 404 and typesetter.rendered == [("n-1", 2), ("n-1", 1)]
    async with deps.db.sessions() as session:
        reads = (await session.exec(select(AuditEntry.action).where(AuditEntry.action == "report.pdf"))).all()
    assert len(reads) == 5


async def test_the_renderer_renders_each_notices_newest_version_oldest_first_and_leaves_a_failed_one(deps: EvidenceDeps, monkeypatch: pytest.MonkeyPatch) -> None:
    typesetter = Typesetter(failing=("n-bad",))
    monkeypatch.setattr(handlers.rendering, "render_pdf", typesetter)
    await _issue(deps, "n-1", 1)
    await _issue(deps, "n-bad", 1, after_s=10)
    await _issue(deps, "n-2", 1, after_s=20)
    await _issue(deps, "n-1", 2, after_s=30)

    # The failed one rests the renderer until its next round, which goes on to the others without it.
    assert await handlers.render_report(deps) is False
    assert deps.renderings.failed == {("n-bad", 1)}
    assert [await handlers.render_report(deps) for _ in range(3)] == [True, True, False]
    assert typesetter.rendered == [("n-2", 1), ("n-1", 2)]
    stored = await _pdf_sha256s(deps)
    # Version 1 of n-1 was superseded before its turn: nobody has asked for it.
    assert stored[("n-1", 1)] is None and stored[("n-bad", 1)] is None
    assert stored[("n-2", 1)] is not None and stored[("n-1", 2)] is not None


async def test_the_versions_of_a_report_are_listed_for_its_court_and_overseers_only(deps: EvidenceDeps) -> None:
    await _issue(deps, "n-1", 1)
    await _issue(deps, "n-1", 2, after_s=60)
    listed = await handlers.report_versions(deps, principal=Principal(histories.COURT, Role.court), notice_id="n-1", client="127.0.0.1")
    assert [(v.version, v.sha256, v.issued_at) for v in listed] == [(1, f"{1:064x}", NOW), (2, f"{2:064x}", NOW + timedelta(seconds=60))]
    assert len(await handlers.report_versions(deps, principal=Principal("auditor-1", Role.auditor), notice_id="n-1", client=None)) == 2
    for principal, notice_id in ((Principal("C110105", Role.court), "n-1"), (Principal(histories.COURT, Role.court), "n-none")):
        with pytest.raises(Problem) as refused:
            await handlers.report_versions(deps, principal=principal, notice_id=notice_id, client=None)
        assert refused.value.status == 404
    async with deps.db.sessions() as session:
        audited = (await session.exec(select(AuditEntry.target).where(AuditEntry.action == "report.versions"))).all()
    assert audited == ["n-1", "n-1"]
