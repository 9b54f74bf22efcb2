"""The supervisors' pages call the services as the person: each request as delivery, evidence and intake take it, and their own answers (their response models) read back."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest
import respx

from services.console.adapters.batches import BatchesClient, Upload
from services.console.adapters.calls import ServiceRefused
from services.console.adapters.evidence import EvidenceClient
from services.console.adapters.intake import IntakeClient
from services.console.adapters.notices import NoticesClient
from services.console.adapters.oversight import OversightClient
from services.delivery import requests as delivery
from services.delivery.domain.state import RecipientStatus
from services.intake.courts import CourtOut
from services.intake.requests import BatchOut, BatchRowOut, CellErrorOut
from shared.plumbing.auth import Principal, Role
from tests import consoles
from tests.consoles import caller_of, service_api

DELIVERY = "http://delivery.test"
EVIDENCE = "http://evidence.test"
INTAKE = "http://intake.test"
BOSS = Principal(sub="boss", role=Role.supervisor)
AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def agent_out(agent_id: str, *, active: bool = True, open_tasks: int = 0) -> dict[str, object]:
    return delivery.AgentOut(id=agent_id, name="环翠组二", areas=["环翠区"], active=active, open_tasks=open_tasks).model_dump(mode="json")


@respx.mock
async def test_the_board_reads_deliverys_cards_with_their_agent_and_its_roster(http: httpx.AsyncClient) -> None:
    card = delivery.TaskCard.model_validate(consoles.task("t-1").model_dump() | {"agent_id": "agent-2"})
    tasks = respx.get(f"{DELIVERY}/v1/tasks").mock(return_value=httpx.Response(200, json=[card.model_dump(mode="json")]))
    respx.get(f"{DELIVERY}/v1/agents").mock(return_value=httpx.Response(200, json=[agent_out("agent-2", open_tasks=1)]))
    oversight = OversightClient(service_api(http, "delivery", DELIVERY))
    [read] = await oversight.team_tasks(BOSS)
    [agent] = await oversight.agents(BOSS)
    assert (read.task_id, read.agent_id, read.late) == ("t-1", "agent-2", False) and (agent.id, agent.open_tasks, agent.areas) == ("agent-2", 1, ["环翠区"])
    assert caller_of(tasks.calls.last.request) == ("supervisor", "boss") and tasks.calls.last.request.url.query == b"", "everyone's tasks: no agent asked for"


@respx.mock
async def test_reassigning_and_keeping_the_roster_send_what_delivery_takes(http: httpx.AsyncClient) -> None:
    card = delivery.TaskCard.model_validate(consoles.task("t-1").model_dump() | {"agent_id": "agent-2"}).model_dump(mode="json")
    moved = respx.post(f"{DELIVERY}/v1/tasks/t-1/reassign").mock(return_value=httpx.Response(200, json=card))
    put = respx.put(f"{DELIVERY}/v1/agents/agent-2").mock(
        side_effect=[httpx.Response(201, json=agent_out("agent-2")), httpx.Response(200, json=agent_out("agent-2", active=False))]
    )
    oversight = OversightClient(service_api(http, "delivery", DELIVERY))
    reassigned = await oversight.reassign(BOSS, "t-1", agent_id="agent-2", reason="请假")
    added = await oversight.put_agent(BOSS, "agent-2", name="环翠组二", areas=["环翠区"], active=True)
    changed = await oversight.put_agent(BOSS, "agent-2", name="环翠组二", areas=["环翠区"], active=False)
    assert reassigned.agent_id == "agent-2" and json.loads(moved.calls.last.request.content) == {"agent_id": "agent-2", "reason": "请假"}
    assert json.loads(put.calls.last.request.content) == {"name": "环翠组二", "areas": ["环翠区"], "active": False}
    assert [created for _, created in (added, changed)] == [True, False] and not changed[0].active


@respx.mock
async def test_held_services_and_decisions_are_delivery_own(http: httpx.AsyncClient) -> None:
    hold = delivery.HoldOut.model_validate(consoles.hold("r-1").model_dump())
    respx.get(f"{DELIVERY}/v1/holds").mock(return_value=httpx.Response(200, json=[hold.model_dump(mode="json")]))
    decided = delivery.RecipientDelivery(
        recipient_id="r-1",
        name="王五",
        role="defendant",
        status=RecipientStatus.served,
        tier="visit",
        whereabouts_unknown=False,
        attempts=[],
        tasks=[],
        served=None,
        service_date=date(2026, 11, 23),
        legal_basis=None,
        exhausted=[],
        public_notice_ends=None,
    )
    revisit = respx.post(f"{DELIVERY}/v1/holds/r-1/revisit").mock(return_value=httpx.Response(200, json=decided.model_dump(mode="json")))
    oversight = OversightClient(service_api(http, "delivery", DELIVERY))
    [read] = await oversight.holds(BOSS)
    answer = await oversight.decide(BOSS, "r-1", decision="revisit", reason="照片看不出住所")
    assert read.flags == {"ev-1": ["far_from_address", "no_gps"], "ev-2": []} and read.outcome == "refused"
    assert (answer.name, answer.status) == ("王五", "served") and json.loads(revisit.calls.last.request.content) == {"reason": "照片看不出住所"}


@respx.mock
async def test_the_notice_list_sends_the_filter_as_its_query_and_reads_delivery_page(http: httpx.AsyncClient) -> None:
    row = delivery.NoticeRow.model_validate(consoles.notice("n-1").model_dump())
    listed = respx.get(f"{DELIVERY}/v1/notices").mock(return_value=httpx.Response(200, json=delivery.NoticePage(items=[row], next_cursor="abc").model_dump(mode="json")))
    page = await NoticesClient(service_api(http, "delivery", DELIVERY)).page(BOSS, params={"party": "张 三", "overdue": "false", "cursor": "xyz"})
    assert dict(listed.calls.last.request.url.params) == {"party": "张 三", "overdue": "false", "cursor": "xyz"}
    assert page.next_cursor == "abc" and page.items[0].warning and not page.items[0].overdue and page.items[0].recipients[1].status == "held"


@respx.mock
async def test_an_items_content_and_the_courts_come_from_evidence_and_intake(http: httpx.AsyncClient) -> None:
    content = respx.get(f"{EVIDENCE}/v1/evidence/ev-1/content").mock(return_value=httpx.Response(200, content=b"\xff\xd8photo", headers={"content-type": "image/jpeg"}))
    court = CourtOut(id="C371002", name="威海市环翠区人民法院", case_code="鲁1002", active=True, updated_at=AT)
    respx.get(f"{INTAKE}/v1/courts").mock(return_value=httpx.Response(200, json=[court.model_dump(mode="json")]))
    auditor = Principal(sub="reader", role=Role.auditor)
    item = await EvidenceClient(service_api(http, "evidence", EVIDENCE)).content(auditor, "ev-1")
    [read] = await IntakeClient(service_api(http, "intake", INTAKE)).courts(auditor)
    assert (item.data, item.content_type) == (b"\xff\xd8photo", "image/jpeg") and caller_of(content.calls.last.request) == ("auditor", "reader")
    assert (read.id, read.name) == ("C371002", "威海市环翠区人民法院")


async def test_an_id_that_would_leave_its_path_segment_is_never_sent(http: httpx.AsyncClient) -> None:
    oversight, evidence = OversightClient(service_api(http, "delivery", DELIVERY)), EvidenceClient(service_api(http, "evidence", EVIDENCE))
    for bad in ("../audit-log", "r-1?x=1", "", ".."):
        with pytest.raises(ServiceRefused):
            await oversight.decide(BOSS, bad, decision="accept", reason="已核实")
        with pytest.raises(ServiceRefused):
            await oversight.put_agent(BOSS, bad, name="某人", areas=[], active=True)
        with pytest.raises(ServiceRefused):
            await evidence.content(BOSS, bad)


async def test_a_workbook_goes_to_intake_with_its_files_and_court_and_intakes_batch_reads_back(http: httpx.AsyncClient) -> None:
    batch = BatchOut(
        id="b-1",
        court_id="C371002",
        filename="送达任务.xlsx",
        status="done",
        total=1,
        done=1,
        registered=0,
        duplicates=0,
        refused=1,
        created_at=AT,
        finished_at=AT,
        rows=[
            BatchRowOut(
                sheet="送达任务",
                row=2,
                court_reference="R-1",
                status="refused",
                notice_id=None,
                errors=[CellErrorOut(sheet="送达任务", row=2, column="证件号码", field="recipients[0].id_number", message="居民身份证号码校验位不符，请核对")],
            )
        ],
    ).model_dump(mode="json")
    client = BatchesClient(service_api(http, "intake", INTAKE), upload_api=service_api(http, "intake", INTAKE))
    with respx.mock(assert_all_called=True) as mock:
        posted = mock.post(f"{INTAKE}/v1/notice-batches").respond(202, json={"batch_id": "b-1"})
        mock.get(f"{INTAKE}/v1/notice-batches/b-1").respond(200, json=batch)
        upload = Upload(workbook=("送达任务.xlsx", io.BytesIO(b"PK\x03\x04")), files=[("传票.pdf", io.BytesIO(b"%PDF-1.7"), "application/pdf")], court_id="C371002")
        assert await client.submit(BOSS, upload) == "b-1"
        read = await client.batch(BOSS, "b-1")
    request = posted.calls[0].request
    body = request.content
    assert caller_of(request) == ("supervisor", "boss") and int(request.headers["content-length"]) == len(body)
    assert b'name="workbook"; filename="' in body and b'name="files"; filename="' in body and b'name="court_id"\r\n\r\nC371002' in body
    assert read.refusals[0].message == "居民身份证号码校验位不符，请核对" and read.finished
