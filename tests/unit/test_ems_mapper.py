"""The EMS mapper, driven by the real-shaped EMS payloads in tests/fixtures/ems and the opCode table of docs/ems.md."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, date, datetime
from functools import reduce
from pathlib import Path
from typing import Any

import pytest

from services.carrier_gateway.adapters.ems.mapper import (
    RANK,
    Booked,
    CarrierRejected,
    Node,
    OpCode,
    Refused,
    Sender,
    advances,
    booking_outcome,
    booking_payload,
    node,
    receipt,
    supersedes,
    tracking,
)
from shared.contracts.ems_wire import Answer, Trace, Traces, WireError, parse_time
from shared.contracts.events import DispatchPostalItem, PostalStatus, ReceiptReturned, ReturnReason, SignerRole, TrackingUpdated

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "ems"
# A row of the opCode table in docs/ems.md: | `704` | 妥投 | `delivered` | …
SPEC_ROW = re.compile(r"^\| `(?P<code>\d{3})` \| (?P<name>[^|]+?) \| `(?P<status>\w+)` \|", re.MULTILINE)
DOCUMENTED = [(m["code"], m["name"], PostalStatus(m["status"])) for m in SPEC_ROW.finditer((REPO / "docs" / "ems.md").read_text(encoding="utf-8"))]
JOURNEYS = ("push_delivered_family.json", "track_retry_receipt.json", "track_refused_returned.json", "track_rerouted_unclaimed.json")
TRACE_FILES = (*JOURNEYS, "push_signers.json", "push_returns.json", "push_odd.json")

S = SignerRole
R = ReturnReason


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def traces(name: str) -> list[Trace]:
    """Returns the traces of a push, or of a 040001 answer's body."""
    data = load(name)
    return Traces.model_validate(data["retBody"] if "retCode" in data else data).traces


ALL_TRACES = [trace for name in TRACE_FILES for trace in traces(name)]


def nodes_of(op_code: str, op_desc: str | None) -> list[Node]:
    found = [node(t) for t in ALL_TRACES if t.op_code == op_code and t.op_desc == op_desc]
    assert found, f"no {op_code} trace reads {op_desc!r} in the fixtures"
    return found


# Codes and raw fields


def test_the_spec_table_is_read() -> None:
    assert len(DOCUMENTED) == 9


def test_the_enum_lists_exactly_the_documented_codes() -> None:
    assert {code.value for code in OpCode} == {code for code, _, _ in DOCUMENTED}


@pytest.mark.parametrize(("code", "name", "status"), DOCUMENTED, ids=[code for code, _, _ in DOCUMENTED])
def test_every_documented_code_maps_to_its_status_with_the_raw_trace_kept(code: str, name: str, status: PostalStatus) -> None:
    found = [t for t in ALL_TRACES if t.op_code == code]
    assert found, f"the fixtures have no {code} trace"
    for trace in found:
        item = node(trace)
        assert (item.status, item.op_code, item.op_name, item.op_desc, item.waybill_no) == (status, code, name, trace.op_desc, trace.waybill_no)


def test_an_unknown_code_is_unknown_with_its_raw_code_name_and_description() -> None:
    found = [node(t) for t in ALL_TRACES if t.op_code == "389"]
    assert len(found) == 2
    for item in found:
        assert (item.status, item.op_code, item.op_name, item.op_desc) == (PostalStatus.unknown, "389", "其他", "邮件待处理")
        assert (item.signer_role, item.return_reason, item.signed_on) == (None, None, None)


def test_op_time_is_beijing_time_made_aware() -> None:
    [delivered] = [t for t in traces("push_delivered_family.json") if t.op_code == "704"]
    assert node(delivered).op_time == datetime(2026, 11, 24, 2, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "attempts"),
    [
        ("track_retry_receipt.json", [None, None, None, 1, 1, 2, 2, 3, 3, None]),
        ("push_odd.json", [None, None, 1, None, 1, None, 2, 1, None, None, None, None]),
    ],
)
def test_the_attempt_comes_from_attempt_delivery_code(name: str, attempts: list[int | None]) -> None:
    assert [node(t).attempt for t in traces(name)] == attempts


# Signers

SIGNERS: list[tuple[str, str, SignerRole | None, str | None, str | None]] = [
    ("704", "已签收，本人签收", S.recipient, None, None),
    ("704", "已签收，代签收【家人：李秀英】", S.family_member, "李秀英", "家人"),
    ("704", "已签收，代签收【家属：王芳】", S.family_member, "王芳", "家属"),
    ("704", "已签收，单位收发室签收【收发室：刘伟】", S.mail_room, "刘伟", "收发室"),
    ("704", "已签收，单位代收【单位：孙丽】", S.mail_room, "孙丽", "单位"),
    ("704", "已签收，代签收【律师：周明】", S.litigation_agent, "周明", "律师"),
    ("704", "已签收，代签收【代理人：吴刚】", S.litigation_agent, "吴刚", "代理人"),
    ("704", "已签收，他人代收【邻居：赵六】", S.other, "赵六", "邻居"),
    ("704", "已签收，他人代收【物业：钱七】", S.other, "钱七", "物业"),
    ("704", "已签收，他人代收【门卫：孙八】", S.other, "孙八", "门卫"),
    ("704", " 已签收　， 代签收 【 家人 ： 李秀英 】 ", S.family_member, "李秀英", "家人"),
    ("704", "已签收，非本人签收", S.other, None, None),
    ("704", "已签收", None, None, None),
    ("801", "回执已返回，签收人：李秀英，关系：家人，签收日期：2026-11-24", S.family_member, "李秀英", "家人"),
    ("801", "回执已返回，签收人：张三，关系：本人，签收日期：2026-11-24", S.recipient, "张三", "本人"),
    ("801", "回执已返回，签收人：张三，关系：本人，签收日期：2026-11-26", S.recipient, "张三", "本人"),
    ("801", "回执已返回，签收人：刘伟，关系：收发室，签收日期：2026-11-24", S.mail_room, "刘伟", "收发室"),
    ("801", "回执已返回，签收人：周明，关系：代理律师，签收日期：2026-11-24", S.litigation_agent, "周明", "代理律师"),
    ("801", "回执已返回，签收人：赵六，关系：邻居，签收日期：2026-11-24", S.other, "赵六", "邻居"),
    ("801", "回执已返回；签收人： 李秀英 ，关系：家人；签收日期：２０２６年１１月２４日", S.family_member, "李秀英", "家人"),
    ("801", "回执已返回，签收人：王芳，关系：家属", S.family_member, "王芳", "家属"),
    ("801", "回执已返回，签收人：马强，关系：同事，签收日期：2026-11-31", S.other, "马强", "同事"),
    ("801", "回执已返回", None, None, None),
]


@pytest.mark.parametrize(("code", "desc", "role", "name", "relation"), SIGNERS)
def test_the_signer_is_read_from_the_description(code: str, desc: str, role: SignerRole | None, name: str | None, relation: str | None) -> None:
    for item in nodes_of(code, desc):
        assert (item.signer_role, item.signer_name, item.relation) == (role, name, relation)
        assert item.op_desc == desc


def test_every_signing_in_the_fixtures_has_an_expectation() -> None:
    expected = {(code, desc) for code, desc, *_ in SIGNERS}
    assert {(t.op_code, t.op_desc) for t in ALL_TRACES if t.op_code in ("704", "801")} == expected


# Return reasons

RETURNS: list[tuple[str, str | None, ReturnReason]] = [
    ("706", "收件人拒收", R.refused),
    ("711", "退回寄件人，原因：收件人拒收", R.refused),
    ("711", "退回寄件人，原因：招领期满无人领取", R.unclaimed),
    ("711", "退回寄件人，原因：地址错误", R.address_wrong),
    ("711", "退回寄件人，原因：原址查无此人", R.address_wrong),
    ("711", "退回寄件人，原因：收件人已迁移新址不明", R.moved),
    ("711", "退回寄件人，原因：收件人下落不明", R.whereabouts_unknown),
    ("711", "退回寄件人，原因：寄件人要求撤回", R.other),
    ("711", "退回寄件人，原因：　招领期满　无人领取", R.unclaimed),
    ("711", None, R.other),
]


@pytest.mark.parametrize(("code", "desc", "reason"), RETURNS)
def test_the_return_reason_is_read_from_the_description(code: str, desc: str | None, reason: ReturnReason) -> None:
    for item in nodes_of(code, desc):
        assert item.return_reason is reason


def test_every_return_in_the_fixtures_has_an_expectation() -> None:
    expected = {(code, desc) for code, desc, _ in RETURNS}
    assert {(t.op_code, t.op_desc) for t in ALL_TRACES if t.op_code in ("706", "711")} == expected


def test_only_the_codes_that_report_them_carry_a_signer_a_reason_or_a_date() -> None:
    for item in map(node, ALL_TRACES):
        if item.op_code not in ("704", "801"):
            assert (item.signer_role, item.signer_name, item.relation) == (None, None, None), item
        if item.op_code not in ("706", "711"):
            assert item.return_reason is None, item
        if item.op_code != "801":
            assert item.signed_on is None, item


# Events


def the_801(waybill_no: str) -> Node:
    [found] = [node(t) for t in ALL_TRACES if t.op_code == "801" and t.waybill_no == waybill_no]
    return found


@pytest.mark.parametrize(
    ("waybill_no", "signer_name", "role", "relation", "signed_on", "returned_at"),
    [
        ("1190000000024", "张三", S.recipient, "本人", date(2026, 11, 26), datetime(2026, 11, 28, 6, 30, tzinfo=UTC)),
        ("1190000000062", "李秀英", S.family_member, "家人", date(2026, 11, 24), datetime(2026, 11, 26, 6, 30, tzinfo=UTC)),
        ("1190000000103", "周明", S.litigation_agent, "代理律师", date(2026, 11, 24), datetime(2026, 11, 26, 6, 36, tzinfo=UTC)),
        ("1190000000220", "李秀英", S.family_member, "家人", date(2026, 11, 24), datetime(2026, 11, 27, 2, 0, tzinfo=UTC)),
        # No date on the receipt: the day it came back, in Beijing (the UTC day is still the 27th).
        ("1190000000244", "王芳", S.family_member, "家属", date(2026, 11, 28), datetime(2026, 11, 27, 16, 30, tzinfo=UTC)),
        # 2026-11-31 is no date: the day it came back stands in.
        ("1190000000251", "马强", S.other, "同事", date(2026, 11, 27), datetime(2026, 11, 27, 2, 15, tzinfo=UTC)),
    ],
)
def test_a_returned_receipt_reports_signer_relation_and_the_date_on_it(
    waybill_no: str, signer_name: str, role: SignerRole, relation: str, signed_on: date, returned_at: datetime
) -> None:
    assert receipt(the_801(waybill_no), notice_id="n-1", attempt_id="att-1") == ReceiptReturned(
        notice_id="n-1",
        attempt_id="att-1",
        waybill_no=waybill_no,
        signer_name=signer_name,
        signer_role=role,
        relation=relation,
        signed_on=signed_on,
        returned_at=returned_at,
        scan_evidence_id=None,
    )


def test_a_receipt_whose_signer_cannot_be_read_reports_no_receipt_but_keeps_the_raw_text() -> None:
    unread = the_801("1190000000237")
    assert receipt(unread, notice_id="n-1", attempt_id="att-1") is None
    event = tracking(unread, notice_id="n-1", attempt_id="att-1")
    assert (event.status, event.op_code, event.op_desc, event.signer_role) == (PostalStatus.receipt_returned, "801", "回执已返回", None)


def test_only_an_801_is_a_receipt() -> None:
    others = [node(t) for t in ALL_TRACES if t.op_code != "801"]
    assert any(item.signer_name for item in others)
    assert [receipt(item, notice_id="n-1", attempt_id="att-1") for item in others] == [None] * len(others)


@pytest.mark.parametrize(
    ("name", "code", "status", "signer_role", "return_reason"),
    [
        ("push_delivered_family.json", "704", PostalStatus.delivered, S.family_member, None),
        ("track_refused_returned.json", "711", PostalStatus.returned, None, R.refused),
        ("track_rerouted_unclaimed.json", "389", PostalStatus.unknown, None, None),
    ],
)
def test_tracking_updated_carries_the_normalised_status_beside_the_raw_trace(
    name: str, code: str, status: PostalStatus, signer_role: SignerRole | None, return_reason: ReturnReason | None
) -> None:
    [trace] = [t for t in traces(name) if t.op_code == code]
    assert tracking(node(trace), notice_id="n-1", attempt_id="att-1") == TrackingUpdated(
        notice_id="n-1",
        attempt_id="att-1",
        waybill_no=trace.waybill_no,
        status=status,
        op_time=parse_time(trace.op_time),
        op_code=code,
        op_name=trace.op_name,
        op_desc=trace.op_desc,
        signer_role=signer_role,
        return_reason=return_reason,
    )


# Booking

SENDER = Sender(name="威海市环翠区人民法院", mobile="06315200000", prov="山东省", city="威海市", county="环翠区", address="山东省威海市环翠区青岛北路56号")


def command(**changes: Any) -> DispatchPostalItem:
    fields: dict[str, Any] = {
        "notice_id": "n-1",
        "recipient_id": "r-1",
        "attempt_id": "att-7f3c2a",
        "court_id": "court-371002",
        "court_name": "威海市环翠区人民法院",
        "case_number": "（2026）鲁1002民初1234号",
        "receiver_name": "张三",
        "receiver_phone": "+8613800138000",
        "address": "山东省威海市环翠区文化西路88号3单元502室",
        "postcode": "264200",
        "documents": ["起诉状副本", "应诉通知书", "举证通知书"],
    }
    return DispatchPostalItem(**(fields | changes))


def test_the_booking_payload_is_the_create_waybill_request() -> None:
    assert booking_payload(command(), sender=SENDER) == load("create_waybill_request.json")


@pytest.mark.parametrize(
    ("phone", "mobile"),
    [("+8613800138000", "13800138000"), ("+866315200000", "06315200000"), ("+14155550100", None), (None, None)],
    ids=["mobile", "fixed line", "foreign", "none"],
)
def test_the_receiver_phone_is_sent_as_a_national_number_or_left_out(phone: str | None, mobile: str | None) -> None:
    receiver = booking_payload(command(receiver_phone=phone), sender=SENDER)["receiver"]
    assert receiver.get("mobile") == mobile
    assert ("mobile" in receiver) is (mobile is not None)


def test_a_missing_postcode_is_left_out() -> None:
    receiver = booking_payload(command(postcode=None), sender=SENDER)["receiver"]
    assert set(receiver) == {"name", "mobile", "address"}


@pytest.mark.parametrize("as_model", [False, True], ids=["dict", "envelope"])
@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("create_waybill_ok.json", Booked(waybill_no="1190000000017")),
        ("create_waybill_out_of_area.json", Refused(code="B00004", reason="地址超区")),
    ],
)
def test_the_booking_outcome_is_a_waybill_or_a_refusal(name: str, outcome: Booked | Refused, as_model: bool) -> None:
    answer = load(name)
    assert booking_outcome(Answer.model_validate(answer) if as_model else answer) == outcome


def test_a_plain_dict_with_only_the_result_fields_is_enough() -> None:
    assert booking_outcome({"retCode": "B00001", "retMsg": "receiver.address 不能为空", "retBody": None}) == Refused(code="B00001", reason="receiver.address 不能为空")


@pytest.mark.parametrize(
    "answer",
    [
        load("create_waybill_unauthorised.json"),
        {"retCode": "S00002", "retMsg": "报文解密失败", "retBody": None},
        {"retCode": "S00003", "retMsg": "接口编码不存在"},
    ],
    ids=["S00001", "S00002", "S00003"],
)
def test_a_request_ems_would_not_read_is_our_error_not_a_refused_item(answer: dict[str, Any]) -> None:
    with pytest.raises(CarrierRejected) as raised:
        booking_outcome(answer)
    assert (raised.value.code, raised.value.message) == (answer["retCode"], answer["retMsg"])


def test_a_success_without_a_waybill_number_is_a_wire_error() -> None:
    with pytest.raises(WireError):
        booking_outcome({"retCode": "00000", "retMsg": "成功", "retBody": {"logisticsOrderNo": "att-7f3c2a"}})


# Ordering

P = PostalStatus


def test_every_status_has_a_rank() -> None:
    assert set(RANK) == set(PostalStatus)


@pytest.mark.parametrize(
    ("current", "new", "expected"),
    [
        (None, P.unknown, True),
        (None, P.accepted, True),
        (P.unknown, P.accepted, True),
        (P.accepted, P.unknown, False),
        (P.arrived, P.in_transit, True),
        (P.delivery_failed, P.out_for_delivery, True),
        (P.delivery_failed, P.arrived, True),
        (P.out_for_delivery, P.delivered, True),
        (P.delivered, P.delivery_failed, False),
        (P.delivered, P.in_transit, False),
        (P.refused, P.out_for_delivery, False),
        (P.refused, P.delivered, True),
        (P.delivered, P.returned, True),
        (P.delivered, P.receipt_returned, True),
        (P.returned, P.delivered, False),
        (P.returned, P.in_transit, False),
        (P.receipt_returned, P.delivered, False),
        (P.returned, P.receipt_returned, True),
    ],
)
def test_a_status_never_gives_way_to_one_of_a_lower_rank(current: PostalStatus | None, new: PostalStatus, expected: bool) -> None:
    assert advances(current, new) is expected


def at(code: str, time: str, attempt: str | None = None) -> Node:
    return node(Trace(waybill_no="1190000000017", op_time=time, op_code=code, op_name="", attempt_delivery_code=attempt))


@pytest.mark.parametrize(
    ("current", "new", "expected"),
    [
        (at("705", "2026-11-24 11:40:00", "1"), at("702", "2026-11-25 08:20:00", "2"), True),
        (at("702", "2026-11-25 08:20:00", "2"), at("705", "2026-11-24 11:40:00", "1"), False),
        (at("705", "2026-11-24 10:45:00", "1"), at("306", "2026-11-25 06:50:00"), True),
        # The same minute: the later attempt, then the later step of the journey.
        (at("705", "2026-11-25 08:20:00", "1"), at("702", "2026-11-25 08:20:00", "2"), True),
        (at("702", "2026-11-25 08:20:00", "2"), at("705", "2026-11-25 08:20:00", "1"), False),
        (at("702", "2026-11-24 08:10:00", "1"), at("705", "2026-11-24 08:10:00", "1"), True),
        (at("705", "2026-11-24 08:10:00", "1"), at("702", "2026-11-24 08:10:00", "1"), False),
        (at("310", "2026-11-23 21:05:00"), at("306", "2026-11-23 21:05:00"), True),
        # A higher rank wins whatever the time, and a duplicate changes nothing.
        (at("702", "2026-11-26 08:15:00", "3"), at("704", "2026-11-24 10:12:00", "1"), True),
        (at("711", "2026-11-24 17:30:00"), at("704", "2026-11-25 10:20:00", "1"), False),
        (at("704", "2026-11-24 10:12:00", "1"), at("704", "2026-11-24 10:12:00", "1"), False),
        (at("306", "2026-11-24 06:30:00"), at("389", "2026-11-24 07:30:00"), False),
        (at("389", "2026-11-24 07:30:00"), at("203", "2026-11-23 15:40:00"), True),
    ],
)
def test_a_node_supersedes_by_rank_then_time(current: Node, new: Node, expected: bool) -> None:
    assert supersedes(current, new) is expected


def fold(nodes: list[Node]) -> Node | None:
    return reduce(lambda current, new: new if supersedes(current, new) else current, nodes, None)


@pytest.mark.parametrize(
    ("name", "current_after_each"),
    [
        ("push_delivered_family.json", ["203", "310", "306", "702", "704"]),
        ("track_retry_receipt.json", ["203", "310", "306", "702", "705", "702", "705", "702", "704", "801"]),
        # The return trip's own scans, down to the court's mail room signing, leave the item returned.
        ("track_refused_returned.json", ["203", "310", "306", "702", "706", "711", "711", "711", "711"]),
        # A re-route after a failed attempt moves forward; an unknown code moves nothing.
        ("track_rerouted_unclaimed.json", ["203", "310", "306", "702", "705", "310", "306", "306", "702", "705", "702", "705", "711"]),
    ],
)
def test_traces_in_time_order_move_the_item_as_the_journey_goes(name: str, current_after_each: list[str]) -> None:
    nodes = [node(t) for t in traces(name)]
    seen = [fold(nodes[: i + 1]) for i in range(len(nodes))]
    assert [item.op_code for item in seen if item] == current_after_each


@pytest.mark.parametrize(
    ("name", "code", "time"),
    [
        ("push_delivered_family.json", "704", "2026-11-24 10:12:00"),
        ("track_retry_receipt.json", "801", "2026-11-28 14:30:00"),
        ("track_refused_returned.json", "711", "2026-11-24 17:30:00"),
        ("track_rerouted_unclaimed.json", "711", "2026-12-03 09:00:00"),
    ],
)
def test_the_current_node_is_the_same_however_often_and_in_whatever_order_traces_arrive(name: str, code: str, time: str) -> None:
    rng = random.Random(20261123)
    nodes = [node(t) for t in traces(name)]
    expected = next(item for item in nodes if (item.op_code, item.op_time) == (code, parse_time(time)))
    expected_arrived_last = []
    for _ in range(50):
        arrivals = nodes + rng.choices(nodes, k=len(nodes) // 2)
        rng.shuffle(arrivals)
        expected_arrived_last.append(arrivals[-1] == expected)
        assert fold(arrivals) == expected
    assert not all(expected_arrived_last)
