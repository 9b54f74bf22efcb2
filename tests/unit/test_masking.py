import hashlib
import uuid

import pytest
import structlog
from structlog.testing import capture_logs

from shared.contracts.values import Phone
from shared.plumbing.masking import PERSONAL_KEYS, mask_event_dict, mask_text, mask_value

SHA256_EMPTY = hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # Chinese mobile numbers
        ("call 13800138000 now", "call 138****8000 now"),
        ("电话：13800138000，请联系", "电话：138****8000，请联系"),
        ("+86 138 0013 8000", "+86138****8000"),
        ("+86-138-0013-8000", "+86138****8000"),
        ("138 0013 8000", "138****8000"),
        ("8613800138000", "861******8000"),
        ("phone=19912345678;", "phone=199****5678;"),
        # E.164 numbers
        ("sent to +8613800138000", "sent to +86138****8000"),
        ("to +14155552671.", "to +1415***2671."),
        ("fixed +866315201234", "fixed +86631***1234"),
        # resident ID numbers
        ("身份证号371002198503124210。", "身份证号37**************10。"),
        ("id 11010519491231002X", "id 11**************2X"),
        ("id 11010519491231002x", "id 11**************2x"),
        # unified social credit codes
        ("uscc 91371002MA3C5Y8K03, ok", "uscc 91**************03, ok"),
        ("(91350100M000100Y43)", "(91**************43)"),
        # e-mail addresses
        ("mail zhang.san@example.com please", "mail z***@example.com please"),
        ("13800138000@qq.com", "1***@qq.com"),
        ("<li+tag@mail.court.gov.cn>", "<l***@mail.court.gov.cn>"),
        # several kinds in one message
        (
            "party 张三 13800138000 zs@example.com 371002198503124210",
            "party 张三 138****8000 z***@example.com 37**************10",
        ),
    ],
)
def test_mask_text_masks_personal_data(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        str(uuid.UUID("3f2b8c1e-9a4d-4e6b-8c2f-1a2b3c4d5e6f")),
        "3f2b8c1e-9a4d-4e6b-8c2f-a13800138000",  # an 11-digit mobile-shaped run inside a UUID
        "notice 3F2B8C1E-9A4D-4E6B-8C2F-A13800138000 sent",
        SHA256_EMPTY,
        SHA256_EMPTY.upper(),
        "ab13800138000cd" + "0" * 49,  # hex digest with a mobile-shaped run
        "f" * 10 + "371002198503124210" + "e" * 36,  # hex digest with an ID-shaped run
        "sha256:" + "1" * 64,
        "2024-05-01T12:34:56.789+08:00",
        "2024-05-01T04:34:56Z",
        "20240501T123456+0800",
        "at 1714550400000 ms",  # epoch milliseconds, a 13-digit run starting 17
        "seq 138001380001",  # 12 digits: longer than a mobile number
        "blob 3710021985031242101",  # 19 digits: longer than an ID number
        "(2024)鲁1002民初1234号",
        "notice N-20240501-000123",
        "request 01HXZ8K4Q9R7M2N5P3T6V8W0YA",
        "retry in 1.5s, attempt 3 of 5, +08:00",
        "",
    ],
)
def test_mask_text_leaves_identifiers_and_timestamps_alone(text: str) -> None:
    assert mask_text(text) == text


def test_personal_keys() -> None:
    assert PERSONAL_KEYS == {
        "phone",
        "phones",
        "mobile",
        "id_number",
        "email",
        "emails",
        "address",
        "addresses",
        "name",
        "recipient_name",
        "postcode",
    }
    assert "text" not in PERSONAL_KEYS


@pytest.mark.parametrize(
    ("key", "value", "masked"),
    [
        ("phone", "+8613800138000", "+86138****8000"),
        ("mobile", "13800138000", "138****8000"),
        ("phone", "0631-5201234", "063****1234"),
        ("phone", 13800138000, "138****8000"),
        ("phone", "ask the clerk", "a***"),
        ("phones", ["+8613800138000", "+866315201234"], ["+86138****8000", "+86631***1234"]),
        (
            "phones",
            [{"e164": "+8613800138000", "line_type": "mobile"}],
            [{"e164": "+86138****8000", "line_type": "m***"}],
        ),
        ("phone", Phone.parse("13800138000"), "+86138****8000"),
        ("id_number", "371002198503124210", "37**************10"),
        ("email", "zhang.san@example.com", "z***@example.com"),
        ("emails", ("a@b.cn", "not-an-address"), ("a***@b.cn", "n***")),
        ("name", "张三", "张***"),
        ("recipient_name", "Zhang San", "Z***"),
        ("name", "", ""),
        ("address", "山东省威海市环翠区文化西路2号", "山***"),
        (
            "address",
            {"province": "山东省", "street": "文化西路2号", "postcode": 264200, "phone": "13800138000"},
            {"province": "山***", "street": "文***", "postcode": "2***", "phone": "138****8000"},
        ),
        ("addresses", [{"street": "文化西路2号"}], [{"street": "文***"}]),
        ("postcode", "264200", "2***"),
        ("phone", None, None),
        ("name", True, True),
    ],
)
def test_mask_value_masks_personal_keys_whole(key: str, value: object, masked: object) -> None:
    assert mask_value(key, value) == masked


@pytest.mark.parametrize(
    ("key", "value", "masked"),
    [
        ("event", "sms sent to 13800138000", "sms sent to 138****8000"),
        ("notice_id", "3f2b8c1e-9a4d-4e6b-8c2f-1a2b3c4d5e6f", "3f2b8c1e-9a4d-4e6b-8c2f-1a2b3c4d5e6f"),
        ("digest", SHA256_EMPTY, SHA256_EMPTY),
        ("attempt", 3, 3),
        ("ok", False, False),
        ("latency", 0.25, 0.25),
        ("recipient", Phone.parse("0631-5201234"), "+86631***1234"),
        (
            "party",
            {"name": "张三", "id_number": "371002198503124210", "kind": "natural_person"},
            {"name": "张***", "id_number": "37**************10", "kind": "natural_person"},
        ),
        ("parties", [{"phone": "13800138000"}, "zs@example.com"], [{"phone": "138****8000"}, "z***@example.com"]),
        ("args", ("13800138000", 7), ("138****8000", 7)),
        ("codes", {1: "13800138000"}, {1: "138****8000"}),
    ],
)
def test_mask_value_masks_inside_other_keys(key: str, value: object, masked: object) -> None:
    assert mask_value(key, value) == masked


def test_mask_value_does_not_mutate_input() -> None:
    value = {"name": "张三", "nested": ["13800138000"]}
    mask_value("party", value)
    assert value == {"name": "张三", "nested": ["13800138000"]}


def test_mask_event_dict() -> None:
    event_dict = {
        "event": "delivered to zs@example.com",
        "level": "info",
        "timestamp": "2024-05-01T04:34:56Z",
        "notice_id": "3f2b8c1e-9a4d-4e6b-8c2f-a13800138000",
        "phone": "+8613800138000",
        "evidence_sha256": SHA256_EMPTY,
    }
    assert mask_event_dict(None, "info", event_dict) == {
        "event": "delivered to z***@example.com",
        "level": "info",
        "timestamp": "2024-05-01T04:34:56Z",
        "notice_id": "3f2b8c1e-9a4d-4e6b-8c2f-a13800138000",
        "phone": "+86138****8000",
        "evidence_sha256": SHA256_EMPTY,
    }


def test_mask_event_dict_as_structlog_processor() -> None:
    with capture_logs(processors=[mask_event_dict]) as logs:
        structlog.get_logger().info("sms to 13800138000", id_number="11010519491231002X", attempt=2)
    assert logs == [{"event": "sms to 138****8000", "id_number": "11**************2X", "attempt": 2, "log_level": "info"}]
