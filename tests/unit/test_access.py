"""The object rules of each service, as tables: who reaches which court's cases, notices, recipients, tasks, items and waybills."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.carrier_gateway.access import reaches as reaches_waybill
from services.carrier_gateway.models import CarrierItem
from services.delivery import access as delivery
from services.delivery.models import DeliveryNotice, DeliveryRecipient, DeliveryTask
from services.evidence import access as evidence
from services.evidence.models import EvidenceNotice, EvidenceTask
from services.intake import access as intake
from services.intake.courts import owns_case
from services.intake.models import IntakeCourt, IntakeNotice
from shared.contracts.casenumber import CaseNumber
from shared.plumbing.auth import Principal, Role

NOW = datetime(2026, 12, 1, tzinfo=UTC)
FIRM = "31370000MD0123456A"
HUANCUI = IntakeCourt(id="C371002", name="威海市环翠区人民法院", case_code="鲁1002", updated_at=NOW)
WEIHAI = IntakeCourt(id="C371000", name="山东省威海市中级人民法院", case_code="鲁10", updated_at=NOW)

COURT = Principal("C371002", Role.court)
OTHER_COURT = Principal("C110105", Role.court)
AGENT = Principal("agent-1", Role.agent)
OTHER_AGENT = Principal("agent-2", Role.agent)
LAWYER = Principal(FIRM, Role.lawyer)
OTHER_LAWYER = Principal("31370000MD0543216L", Role.lawyer)
SUPERVISOR = Principal("S-1", Role.supervisor)
AUDITOR = Principal("AU-1", Role.auditor)
SERVICE = Principal("svc", Role.service)
# A court id that is also an agent's id reaches nothing of that court's: the role counts, not the name.
AGENT_NAMED_LIKE_A_COURT = Principal("C371002", Role.agent)


@pytest.mark.parametrize(
    ("court", "case", "owned"),
    [
        (HUANCUI, "（2026）鲁1002民初1234号", True),
        (HUANCUI, "(2026)鲁1002执5号", True),
        (HUANCUI, "（2026）鲁10民终123号", False),  # the intermediate court's appeal
        (HUANCUI, "（2026）鲁1082民初1号", False),  # 荣成, a neighbour with a longer code
        (HUANCUI, "（2026）京0105民初1号", False),
        (WEIHAI, "（2026）鲁10民终123号", True),
        (WEIHAI, "（2026）鲁1002民初1234号", False),  # a code is a whole code, not a prefix
    ],
)
def test_a_case_is_its_courts_by_the_code_it_carries(court: IntakeCourt, case: str, owned: bool) -> None:
    assert owns_case(court, CaseNumber.parse(case)) is owned


def _notice() -> IntakeNotice:
    represented = {"recipient_id": "r-1", "lawyer": {"name": "王律师", "firm": "某所", "firm_uscc": FIRM}}
    other_side = {"recipient_id": "r-2", "lawyer": None}
    return IntakeNotice(
        id="n-1",
        court_id="C371002",
        court_reference="R",
        court_name="",
        case_number="",
        case_key="",
        cause="",
        stage="first_instance",
        due_date=NOW.date(),
        received_at=NOW,
        correlation_id="c",
        fingerprint="f",
        notice={"recipients": [represented, other_side]},
    )


@pytest.mark.parametrize(
    ("principal", "seen"),
    [
        (COURT, ["r-1", "r-2"]),
        (OTHER_COURT, None),
        (LAWYER, ["r-1"]),
        (OTHER_LAWYER, None),
        (AGENT, None),
        (AGENT_NAMED_LIKE_A_COURT, None),
        (SUPERVISOR, ["r-1", "r-2"]),
        (AUDITOR, ["r-1", "r-2"]),
        (SERVICE, ["r-1", "r-2"]),
    ],
)
def test_intake_shows_a_notices_recipients_to_whom(principal: Principal, seen: list[str] | None) -> None:
    visible = intake.visible_recipients(principal, _notice())
    assert (None if visible is None else [r["recipient_id"] for r in visible]) == seen


def _delivery_notice() -> DeliveryNotice:
    return DeliveryNotice(id="n-1", court_id="C371002", case_number="", stage="", due_date=NOW.date(), status="", correlation_id="", registered_at=NOW, received_at=NOW)


def _recipient(lawyer: dict[str, Any] | None) -> DeliveryRecipient:
    return DeliveryRecipient(
        id="r", notice_id="n-1", position=0, name="", role="", status="", tier="", whereabouts_unknown=False, state={"recipient": {"lawyer": lawyer}}, updated_at=NOW
    )


def _task(agent: str = "agent-1") -> DeliveryTask:
    return DeliveryTask(
        id="t", attempt_id="a", notice_id="n-1", recipient_id="r", kind="visit", agent_id=agent, status="open", address="", window_start=NOW, window_end=NOW, created_at=NOW
    )


@pytest.mark.parametrize(
    ("lawyer", "firm", "represented"),
    [({"firm_uscc": FIRM}, FIRM, True), ({"firm_uscc": FIRM}, "31370000MD0543216L", False), ({"firm_uscc": None}, FIRM, False), (None, FIRM, False)],
)
def test_delivery_knows_which_firm_represents_a_recipient(lawyer: dict[str, Any] | None, firm: str, represented: bool) -> None:
    assert delivery.represented_by(_recipient(lawyer), firm) is represented


@pytest.mark.parametrize(
    ("principal", "publish", "task"),
    [
        (COURT, True, False),
        (OTHER_COURT, False, False),
        (AGENT, False, True),
        (OTHER_AGENT, False, False),
        (AGENT_NAMED_LIKE_A_COURT, False, False),
        (LAWYER, False, False),
        (SUPERVISOR, True, True),
        (AUDITOR, False, False),
        (SERVICE, False, False),
    ],
)
def test_delivery_lets_whom_publish_and_report(principal: Principal, publish: bool, task: bool) -> None:
    assert delivery.may_publish(principal, _delivery_notice()) is publish
    assert delivery.reaches_task(principal, _task()) is task
    assert delivery.reaches_task(principal, None) is False


def _evidence_task(*, closed: bool = False) -> EvidenceTask:
    return EvidenceTask(task_id="t", notice_id="n-1", recipient_id="r", attempt_id="a", agent_id="agent-1", window_start=NOW, window_end=NOW, closed=closed)


@pytest.mark.parametrize(
    ("principal", "notice", "open_task", "closed_task"),
    [
        (COURT, True, False, False),
        (OTHER_COURT, False, False, False),
        (AGENT, False, True, False),
        (OTHER_AGENT, False, False, False),
        (AGENT_NAMED_LIKE_A_COURT, False, False, False),
        (LAWYER, False, False, False),
        (SUPERVISOR, True, False, False),
        (AUDITOR, True, False, False),
        (SERVICE, True, False, False),
    ],
)
def test_evidence_lets_whom_reach_a_notice_and_work_on_a_task(principal: Principal, notice: bool, open_task: bool, closed_task: bool) -> None:
    assert evidence.sees_notice(principal, EvidenceNotice(id="n-1", court_id="C371002", correlation_id="c")) is notice
    assert evidence.sees_notice(principal, None) is False
    assert evidence.works_on(principal, _evidence_task()) is open_task
    assert evidence.works_on(principal, _evidence_task(closed=True)) is closed_task


def test_idempotency_keys_are_the_callers_own() -> None:
    keys = {evidence.scoped_key(p, "receipt-scan:a-1") for p in (AGENT, OTHER_AGENT, SERVICE, Principal("carrier_gateway", Role.service))}
    assert len(keys) == 4
    assert evidence.scoped_key(AGENT, None) is None


@pytest.mark.parametrize(
    ("principal", "reaches"),
    [(COURT, True), (OTHER_COURT, False), (AGENT_NAMED_LIKE_A_COURT, False), (LAWYER, False), (SUPERVISOR, True), (AUDITOR, True), (SERVICE, True)],
)
def test_a_waybill_is_its_courts(principal: Principal, reaches: bool) -> None:
    item = CarrierItem(attempt_id="a", notice_id="n-1", command={"court_id": "C371002"}, status="booked", created_at=NOW, updated_at=NOW)
    assert reaches_waybill(principal, item) is reaches
    assert reaches_waybill(principal, None) is False
