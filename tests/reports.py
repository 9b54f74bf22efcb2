"""A realistic, valid DeliveryReport for tests: one case of the Huancui court, two recipients, a sealed version 2."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

from shared.contracts.report import FORMAT, SEAL, DeliveryReport, canonical, report_hash
from shared.plumbing.clock import SHANGHAI

CASE_NUMBER = "（2026）鲁1002民初0999号"
COURT_NAME = "威海市环翠区人民法院"


def _hex(label: str) -> str:
    """A stable, plausible sha256 hex for a label."""
    return hashlib.sha256(label.encode()).hexdigest()


def _at(day: int, hour: int, minute: int, month: int = 11) -> str:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI).isoformat()


def evidence(ref: str, kind: str, leaf_index: int, recorded_at: str, *, flags: list[str] | None = None, content_type: str | None = None, size: int | None = None) -> dict[str, Any]:
    """An evidence reference with an inclusion proof to the sample checkpoint (the path hashes are stand-ins)."""
    entry = canonical({"evidence_id": ref, "kind": kind, "leaf_index": leaf_index, "sha256": _hex(ref)}).decode()
    return {
        "ref": ref,
        "kind": kind,
        "sha256": _hex(ref),
        "content_type": content_type,
        "size": size,
        "flags": flags or [],
        "recorded_at": recorded_at,
        "proof": {"leaf_index": leaf_index, "entry": entry, "path": [_hex(f"{ref}/{level}") for level in range(11)]},
    }


def attempt(
    sequence: int,
    tier: str,
    channel: str,
    target: str | None,
    started_at: str,
    ended_at: str | None,
    result: str,
    detail: str | None,
    operator: str,
    evidence_refs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One row of the attempt log, as the report carries it (target already masked)."""
    return {
        "sequence": sequence,
        "attempt_id": f"att-0999-{sequence:03d}-{channel}",
        "tier": tier,
        "channel": channel,
        "target": target,
        "started_at": started_at,
        "ended_at": ended_at,
        "result": result,
        "detail": detail,
        "operator": operator,
        "evidence": evidence_refs or [],
    }


def _zhang_san() -> dict[str, Any]:
    """A person served by court mail: calls and a visit failed, the return receipt was signed by his wife."""
    receipt_scan = evidence("ev-0999-zs-receipt", "return_receipt_scan", 1321, _at(23, 14, 20), content_type="image/jpeg", size=412_388)
    delivered = evidence("ev-0999-zs-ems-704", "ems_trace", 1307, _at(20, 16, 45))
    return {
        "recipient_id": "rcp-0999-1",
        "name": "张三",
        "kind": "person",
        "role": "defendant",
        "id_number": "37**************10",
        "addresses": [
            {
                "text": "山东省威海市环翠区新威路17号3单元502室",
                "postcode": "264200",
                "rank": 1,
                "provenance": [{"kind": "other_case", "source_case": "（2025）鲁1002民初0456号", "confirmed_on": "2025-12-03", "stage": "first_instance"}],
                "used": True,
            },
            {
                "text": "山东省威海市文登区米山镇东楼村45号",
                "postcode": "264400",
                "rank": 2,
                "provenance": [{"kind": "household"}],
                "used": False,
            },
        ],
        "channels": [{"channel": "voice", "target": "138****8000", "basis": "起诉状所列联系电话"}],
        "attempts": [
            attempt(
                1,
                "electronic",
                "voice",
                "138****8000",
                _at(16, 10, 2),
                _at(16, 10, 3),
                "failed",
                "无人接听",
                "系统",
                [evidence("ev-0999-zs-call-1", "call_record", 1188, _at(16, 10, 3))],
            ),
            attempt(
                2,
                "electronic",
                "voice",
                "138****8000",
                _at(16, 15, 30),
                _at(16, 15, 31),
                "failed",
                "用户已关机",
                "系统",
                [evidence("ev-0999-zs-call-2", "call_record", 1195, _at(16, 15, 31))],
            ),
            attempt(
                3,
                "direct",
                "visit",
                "山东省威海市环翠区新威路17号3单元502室",
                _at(17, 9, 10),
                _at(17, 9, 40),
                "failed",
                "无人在家，邻居称受送达人白天外出务工",
                "王磊（外包送达岗）",
                [evidence("ev-0999-zs-visit-photo", "photo", 1236, _at(17, 9, 38), flags=["time_mismatch"], content_type="image/jpeg", size=2_318_004)],
            ),
            attempt(
                4,
                "postal",
                "court_mail",
                "山东省威海市环翠区新威路17号3单元502室",
                _at(18, 8, 30),
                _at(23, 14, 20),
                "succeeded",
                "法院专递（运单号 1178202609991）11月20日妥投，代签收【家人】；回执11月23日退回法院",
                "系统",
                [delivered, receipt_scan],
            ),
        ],
        "served": True,
        "deciding_attempt_id": "att-0999-004-court_mail",
        "method": "postal",
        "method_name": "邮寄送达",
        "service_date": "2026-11-21",
        "legal_basis": "民事诉讼法第91条",
        "deemed": False,
        "served_at": _at(23, 14, 20),
        "signer_name": "李四",
        "signer_role": "family_member",
        "relation": "配偶",
        "witness": None,
        "evidence": [receipt_scan, delivered],
        "exhausted": [],
    }


def _trading_company() -> dict[str, Any]:
    """An organisation that consented to e-service: the first SMS bounced, the second reached its phone."""
    arrived = evidence("ev-0999-co-sms-2", "sms_receipt", 1203, _at(16, 9, 31))
    return {
        "recipient_id": "rcp-0999-2",
        "name": "威海某某贸易有限公司",
        "kind": "organisation",
        "role": "defendant",
        "id_number": "91**************7X",
        "addresses": [
            {
                "text": "山东省威海市环翠区海滨北路88号",
                "postcode": "264200",
                "rank": 1,
                "provenance": [{"kind": "contract", "basis": "借款合同第十二条约定的送达地址"}],
                "used": False,
            },
        ],
        "channels": [
            {"channel": "sms", "target": "139****1234", "basis": "（2025）鲁1002民初0321号送达地址确认书，同意电子送达"},
            {"channel": "email", "target": "f***@example.com", "basis": "（2025）鲁1002民初0321号送达地址确认书，同意电子送达"},
        ],
        "attempts": [
            attempt(
                1,
                "electronic",
                "sms",
                "139****1234",
                _at(16, 9, 0),
                _at(16, 9, 2),
                "failed",
                "运营商回执：暂时无法接通（错误码 30003），30分钟后重试",
                "系统",
                [evidence("ev-0999-co-sms-1", "sms_receipt", 1176, _at(16, 9, 2))],
            ),
            attempt(2, "electronic", "sms", "139****1234", _at(16, 9, 30), _at(16, 9, 31), "succeeded", "短信已到达受送达人手机（运营商回执 DELIVRD）", "系统", [arrived]),
            attempt(
                3,
                "electronic",
                "email",
                "f***@example.com",
                _at(16, 9, 30),
                None,
                "open",
                "已投递至收件服务器，等待阅读回执",
                "系统",
                [evidence("ev-0999-co-mail-1", "email_receipt", 1204, _at(16, 9, 30))],
            ),
        ],
        "served": True,
        "deciding_attempt_id": "att-0999-002-sms",
        "method": "electronic",
        "method_name": "电子送达",
        "service_date": "2026-11-16",
        "legal_basis": "民事诉讼法第90条；民诉法解释第135条",
        "deemed": False,
        "served_at": _at(16, 9, 31),
        "signer_name": None,
        "signer_role": None,
        "relation": None,
        "witness": None,
        "evidence": [arrived],
        "exhausted": [],
    }


def _document() -> dict[str, Any]:
    key = base64.b64encode(hashlib.sha256(b"songda sample log key").digest()).decode()
    signature = base64.b64encode(hashlib.sha512(b"songda sample checkpoint").digest()).decode()
    return {
        "format": FORMAT,
        "report_id": "rpt-0999-01",
        "version": 2,
        "previous_sha256": _hex("rpt-0999-01/v1"),
        "notice_id": "ntc-2026-0999-01",
        "court_id": "C371002",
        "court_name": COURT_NAME,
        "court_reference": "HC-2026-000999-01",
        "case_number": CASE_NUMBER,
        "cause": "民间借贷纠纷",
        "stage": "first_instance",
        "documents": [
            {"title": "起诉状副本", "kind": "complaint_copy", "pages": 3, "sha256": _hex("doc-complaint")},
            {"title": "应诉通知书", "kind": "notice_to_respond", "pages": 1, "sha256": _hex("doc-notice")},
            {"title": "传票", "kind": "summons", "pages": 1, "sha256": _hex("doc-summons")},
        ],
        "document_count": 3,
        "registered_at": _at(16, 8, 45),
        "completed_at": _at(23, 14, 20),
        "overdue": False,
        "issued_at": _at(24, 10, 5),
        "recipients": [_zhang_san(), _trading_company()],
        "checkpoint": {
            "origin": "songda.example/evidence-log/C371002",
            "size": 1322,
            "root": _hex("checkpoint-1322"),
            "issued_at": _at(24, 10, 5),
            "key_id": "5f3a9c21",
            "public_key": key,
            "signature": signature,
        },
        SEAL: {"report_sha256": "0" * 64, "leaf_index": 1322},
    }


def sample_report(**overrides: Any) -> DeliveryReport:
    """Returns the sample report with top-level fields replaced; the seal is recomputed unless `seal` is given."""
    report = DeliveryReport.model_validate({**_document(), **overrides})
    if SEAL in overrides:
        return report
    digest = report_hash(report.model_dump(mode="json"))
    return report.model_copy(update={SEAL: report.seal.model_copy(update={"report_sha256": digest})})


# Where raw data stands as data (hashes, ids, addresses, the browser's own string, a 原文 note): the classes the page marks it with.
VERBATIM = {"code", "hash", "raw", "ua", "target"}
# An ASCII run allowed in the Chinese text: an e-mail address, an IP address, a masked phone, anything with a digit in it (a case
# number, an id, a time), or one of these words of the trade.
ALLOWED_WORDS = {"SHA-256", "PDF", "IP", "JSON", "RFC", "UTF-8", "EMS"}
_ASCII_RUN = re.compile(r"[A-Za-z0-9@._*+\-/=:]+")
_EMAIL = re.compile(r"[^@\s]+@[A-Za-z0-9.-]+")


class _Text(HTMLParser):
    """Collects the body's text outside the verbatim elements."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.body = False
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.body = True
        if tag in ("br", "col", "meta", "link"):
            return
        classes = set((dict(attrs).get("class") or "").split())
        self.stack.append(bool(classes & VERBATIM) or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("br", "col", "meta", "link") and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.body and not (self.stack and self.stack[-1]):
            self.parts.append(data)


def english_words(html: str) -> list[str]:
    """Returns the ASCII words of the page's Chinese text that are not allowed tokens."""
    parser = _Text()
    parser.feed(html)
    text = " ".join(parser.parts)
    runs = _ASCII_RUN.findall(text)
    return [run for run in runs if re.search(r"[A-Za-z]", run) and not re.search(r"\d", run) and not _EMAIL.fullmatch(run) and run not in ALLOWED_WORDS]
