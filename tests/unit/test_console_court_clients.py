"""The courts' pages call the services as the person: each request as intake, delivery and evidence take it, and their own answers (their response models) read back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest
import respx

from services.console.adapters.calls import ServiceRefused
from services.console.adapters.evidence import EvidenceClient
from services.console.adapters.intake import IntakeClient
from services.console.adapters.notices import NoticesClient
from services.delivery import requests as delivery
from services.delivery.domain.state import Attempt, AttemptStatus, RecipientStatus
from services.evidence import api as evidence
from services.intake import requests as intake
from shared.contracts.events import Channel, Document, PartyKind, Stage, Tier
from shared.plumbing.auth import Principal, Role
from tests.consoles import caller_of, service_api

INTAKE, DELIVERY, EVIDENCE = "http://intake.test", "http://delivery.test", "http://evidence.test"
CLERK = Principal(sub="C371002", role=Role.court)
AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SHA = "ab" * 32


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@respx.mock
async def test_a_notice_its_documents_and_a_submission_are_intakes_own(http: httpx.AsyncClient) -> None:
    out = intake.NoticeOut(
        id="n-1",
        court_id="C371002",
        court_reference="R-1",
        case_number="（2026）鲁1002民初1234号",
        cause="民间借贷纠纷",
        stage=Stage.first_instance,
        due_date=date(2026, 12, 1),
        received_at=AT,
        documents=[Document(title="起诉状副本", kind="complaint_copy", pages=3, sha256=SHA, size=10, content_type="application/pdf")],
        recipients=[intake.RecipientOut(recipient_id="r-1", name="张三", kind=PartyKind.person, role="defendant", phones=[], whereabouts_unknown=False)],
    ).model_dump(mode="json")
    read = respx.get(f"{INTAKE}/v1/notices/n-1").mock(return_value=httpx.Response(200, json=out))
    posted = respx.post(f"{INTAKE}/v1/notices").mock(return_value=httpx.Response(201, json=out))
    stored = intake.DocumentOut(sha256=SHA, content_type="application/pdf", size=10, pages=3, filename="起诉状副本.pdf").model_dump(mode="json")
    upload = respx.post(f"{INTAKE}/v1/documents").mock(return_value=httpx.Response(201, json=stored))
    document = respx.get(f"{INTAKE}/v1/documents/{SHA}").mock(return_value=httpx.Response(200, content=b"%PDF-1.7", headers={"content-type": "application/pdf"}))
    client = IntakeClient(service_api(http, "intake", INTAKE))
    notice = await client.notice(CLERK, "n-1")
    submitted = await client.submit(CLERK, {"court_id": "C371002", "court_reference": "R-1"})
    uploaded = await client.upload(CLERK, court_id="C371002", content=b"%PDF-1.7", filename="起诉状副本.pdf", content_type="application/pdf")
    content = await client.document(CLERK, SHA)
    assert (notice.documents[0].sha256, notice.recipients[0].name, submitted.id) == (SHA, "张三", "n-1") and caller_of(read.calls.last.request) == ("court", "C371002")
    assert json.loads(posted.calls.last.request.content) == {"court_id": "C371002", "court_reference": "R-1"}
    sent = upload.calls.last.request.content
    assert (uploaded.sha256, uploaded.pages) == (SHA, 3) and b'name="court_id"\r\n\r\nC371002' in sent and b'name="file"; filename=' in sent
    assert (content.data, content.content_type) == (b"%PDF-1.7", "application/pdf") and document.called


@respx.mock
async def test_a_notices_state_is_deliverys_own(http: httpx.AsyncClient) -> None:
    attempt = Attempt(attempt_id="a-1", step=0, tier=Tier.electronic, channel=Channel.sms, target="+8613800138000", status=AttemptStatus.failed, started_at=AT)
    recipient = delivery.RecipientDelivery(
        recipient_id="r-1",
        name="张三",
        role="defendant",
        status=RecipientStatus.in_progress,
        tier="direct",
        whereabouts_unknown=False,
        attempts=[attempt],
        tasks=[],
        served=None,
        service_date=None,
        legal_basis=None,
        exhausted=[],
        public_notice_ends=None,
    )
    out = delivery.NoticeDelivery(
        notice_id="n-1",
        court_id="C371002",
        case_number="（2026）鲁1002民初1234号",
        stage="first_instance",
        status="in_progress",
        due_date=date(2026, 12, 1),
        registered_at=AT,
        received_at=AT,
        warned_at=AT,
        overdue_at=None,
        completed_at=None,
        recipients=[recipient],
    )
    respx.get(f"{DELIVERY}/v1/notices/n-1/delivery").mock(return_value=httpx.Response(200, json=out.model_dump(mode="json")))
    state = await NoticesClient(service_api(http, "delivery", DELIVERY)).state(CLERK, "n-1")
    assert state.warning and not state.overdue and state.recipients[0].attempts[0].channel == "sms" and "target" not in state.recipients[0].attempts[0].model_dump()


@respx.mock
async def test_items_timeline_thumbnails_and_report_versions_are_evidences_own(http: httpx.AsyncClient) -> None:
    item = evidence.EvidenceOut(
        id="ev-1",
        notice_id="n-1",
        recipient_id="r-1",
        attempt_id=None,
        task_id="t-1",
        kind="photo",
        scene="visit",
        sha256=SHA,
        size=10,
        content_type="image/jpeg",
        filename=None,
        flags=["no_gps"],
        facts=None,
        details={},
        uploaded_by="agent-1",
        leaf_index=3,
        recorded_at=AT,
        content_url="/v1/evidence/ev-1/content",
        proof_url="/v1/evidence/ev-1/proof",
    )
    entry = evidence.TimelineEntry(position=1, log_index=0, event_id="e-1", event_type="intake.NoticeRegistered", source="songda/intake", event_time=AT, sha256=SHA, recorded_at=AT)
    respx.get(f"{EVIDENCE}/v1/notices/n-1/evidence").mock(return_value=httpx.Response(200, json=[item.model_dump(mode="json")]))
    respx.get(f"{EVIDENCE}/v1/notices/n-1/timeline").mock(return_value=httpx.Response(200, json=evidence.Timeline(notice_id="n-1", entries=[entry]).model_dump(mode="json")))
    respx.get(f"{EVIDENCE}/v1/evidence/ev-1/thumbnail").mock(return_value=httpx.Response(200, content=b"\xff\xd8small", headers={"content-type": "image/jpeg"}))
    versions = [evidence.ReportVersionOut(version=n, sha256=SHA, issued_at=AT).model_dump(mode="json") for n in (2, 1)]
    respx.get(f"{EVIDENCE}/v1/reports/n-1/versions").mock(return_value=httpx.Response(200, json=versions))
    html = respx.get(f"{EVIDENCE}/v1/reports/n-1.html").mock(return_value=httpx.Response(200, text="<html>报告</html>"))
    client = EvidenceClient(service_api(http, "evidence", EVIDENCE))
    [listed] = await client.notice_items(CLERK, "n-1")
    timeline = await client.timeline(CLERK, "n-1")
    thumbnail = await client.thumbnail(CLERK, "ev-1")
    read = await client.report_versions(CLERK, "n-1")
    page = await client.report(CLERK, "n-1", form="html", version=1)
    assert listed.picture and listed.flags == ["no_gps"] and timeline.entries[0].event_type == "intake.NoticeRegistered"
    assert thumbnail.data == b"\xff\xd8small" and [v.version for v in read] == [1, 2], "oldest first, whatever the order sent"
    assert page.content_type == "text/html" and dict(html.calls.last.request.url.params) == {"version": "1"}


async def test_ids_and_digests_that_would_leave_their_path_segment_are_never_sent(http: httpx.AsyncClient) -> None:
    intake_client, evidence_client = IntakeClient(service_api(http, "intake", INTAKE)), EvidenceClient(service_api(http, "evidence", EVIDENCE))
    notices = NoticesClient(service_api(http, "delivery", DELIVERY))
    for bad in ("../audit-log", "n-1?x=1", "", ".."):
        for call in (intake_client.notice(CLERK, bad), intake_client.document(CLERK, bad), notices.state(CLERK, bad), evidence_client.thumbnail(CLERK, bad)):
            with pytest.raises(ServiceRefused):
                await call
