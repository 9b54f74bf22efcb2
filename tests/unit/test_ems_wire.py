"""EMS wire format: SM4 payloads, the request form, envelopes and traces, Beijing times, push digests."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.contracts import ems_wire as wire
from shared.plumbing.settings import DEV_EMS_PUSH_SECRET, DEV_EMS_SM4_KEY

KEY = wire.decode_key(DEV_EMS_SM4_KEY)
OTHER_KEY = bytes(range(16))
BOOKING = {"logisticsOrderNo": "att-1", "receiver": {"name": "张三", "mobile": "13800138000", "address": "山东省威海市环翠区新威路17号"}}


def test_payload_round_trips_through_sm4() -> None:
    sealed = wire.encrypt(BOOKING, KEY)

    assert sealed.startswith("|$4|")
    assert len(base64.b64decode(sealed[4:])) % 16 == 0
    assert "张三" not in sealed
    assert wire.decrypt(sealed, KEY) == BOOKING


def test_a_wrong_key_fails_to_decrypt() -> None:
    sealed = wire.encrypt(BOOKING, KEY)

    with pytest.raises(wire.WireError, match="does not decrypt"):
        wire.decrypt(sealed, OTHER_KEY)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("plain json", "does not start with"),
        ("|$4|not base64!", "not base64"),
        ("|$4|" + base64.b64encode(b"short").decode(), "whole SM4 blocks"),
        ("|$4|", "whole SM4 blocks"),
    ],
)
def test_malformed_payloads_raise_wire_error(text: str, message: str) -> None:
    with pytest.raises(wire.WireError, match=message):
        wire.decrypt(text, KEY)


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(wire.WireError, match="not a JSON object"):
        wire.decrypt(wire.encrypt([1, 2], KEY), KEY)  # type: ignore[arg-type]


def test_keys_must_be_sixteen_base64_bytes() -> None:
    assert len(KEY) == 16
    with pytest.raises(wire.WireError, match="16 bytes"):
        wire.decode_key(base64.b64encode(b"x" * 15).decode())
    with pytest.raises(wire.WireError, match="not base64"):
        wire.decode_key("not base64!")


def test_request_form_carries_every_field_and_the_sealed_payload() -> None:
    now = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)

    form = wire.request_form(wire.API_CREATE_WAYBILL, BOOKING, sender_no="37100200018", authorization="code", key=KEY, now=now)

    assert {k: v for k, v in form.items() if k != "logitcsInterface"} == {
        "senderNo": "37100200018",
        "apiCode": "020003",
        "authorization": "code",
        "msgType": "JSON",
        "timeStamp": "2026-11-23 09:00:00",
    }
    assert wire.decrypt(form["logitcsInterface"], KEY) == BOOKING


def test_envelope_reads_and_writes_camel_case() -> None:
    raw = {"serialNo": "s1", "retCode": "B00002", "retMsg": "运单不存在", "retDate": "2026-11-23 09:00:00", "retBody": None}

    envelope = wire.Answer.model_validate(raw)

    assert (envelope.ret_code, envelope.ok) == ("B00002", False)
    assert envelope.model_dump() == raw
    assert wire.Answer(serial_no="s", ret_code=wire.RET_OK, ret_msg="成功", ret_date="x", ret_body={"a": 1}).ok


def test_trace_keeps_emss_names_and_leaves_out_what_ems_omits() -> None:
    raw = {"waybillNo": "1190000000017", "opTime": "2026-11-24 10:12:00", "opCode": "704", "opName": "妥投", "opDesc": "已签收，本人签收", "unknownField": "x"}

    trace = wire.Trace.model_validate(raw)

    assert (trace.waybill_no, trace.op_code, trace.attempt_delivery_code) == ("1190000000017", "704", None)
    assert trace.wire() == {k: v for k, v in raw.items() if k != "unknownField"}
    pushed = wire.Traces.model_validate_json(json.dumps({"traces": [raw]}, ensure_ascii=False))
    assert pushed.traces == [trace] and pushed.waybill_no is None
    with pytest.raises(ValueError, match="opCode"):
        wire.Trace.model_validate({k: v for k, v in raw.items() if k != "opCode"})


def test_times_are_beijing_time_without_an_offset() -> None:
    moment = datetime(2026, 11, 23, 16, 30, 5, 999, tzinfo=UTC)

    text = wire.format_time(moment)

    assert text == "2026-11-24 00:30:05"
    assert wire.parse_time(text) == moment.replace(microsecond=0)
    assert wire.parse_time(text).utcoffset() == timedelta(0)
    assert wire.format_time(datetime(2026, 11, 24, 0, 30, 5, tzinfo=timezone(timedelta(hours=8)))) == text
    with pytest.raises(wire.WireError, match="not an EMS time"):
        wire.parse_time("2026-11-24T00:30:05")


def test_digest_verifies_only_the_body_and_secret_it_was_made_from() -> None:
    body = json.dumps({"traces": [{"waybillNo": "1190000000017", "opCode": "704"}]}).encode()

    header = wire.digest(body, DEV_EMS_PUSH_SECRET)

    assert len(base64.b64decode(header)) == 32
    assert wire.verify_digest(body, DEV_EMS_PUSH_SECRET, header)
    assert not wire.verify_digest(body.replace(b"704", b"705"), DEV_EMS_PUSH_SECRET, header)
    assert not wire.verify_digest(body, "another secret", header)
    assert not wire.verify_digest(body, DEV_EMS_PUSH_SECRET, header[:-2] + "AA")
    assert not wire.verify_digest(body, DEV_EMS_PUSH_SECRET, None)
    assert wire.DIGEST_HEADER == "X-EMS-Digest"
