"""The delivery report rendered for the court: a 送达回证 per recipient, the attempt log and the integrity data, in HTML (the PDF is read back in tests/integration/test_report_pdf.py)."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime
from enum import StrEnum

import pytest

from services.evidence import rendering
from services.evidence.rendering import format_date, format_time, render_html, render_pdf
from shared.contracts.events import Channel, Disposition, Exhausted, Review, ServiceMethod, SignerRole, Stage, Tier
from shared.contracts.evidence import EvidenceFlag, EvidenceKind
from shared.contracts.labels import party_role
from shared.contracts.report import DeliveryReport
from shared.plumbing import pdf
from shared.plumbing.clock import SHANGHAI
from tests.reports import CASE_NUMBER, sample_report


@pytest.fixture(scope="module")
def report() -> DeliveryReport:
    return sample_report()


@pytest.fixture(scope="module")
def html(report: DeliveryReport) -> str:
    return render_html(report)


def test_the_sample_report_is_sealed_over_its_content(report: DeliveryReport) -> None:
    assert report.seal.report_sha256 != "0" * 64
    assert sample_report().seal == report.seal
    assert sample_report(cause="买卖合同纠纷").seal.report_sha256 != report.seal.report_sha256


def test_html_names_the_case_each_recipient_the_service_dates_and_the_legal_basis(report: DeliveryReport, html: str) -> None:
    assert CASE_NUMBER in html
    assert "威海市环翠区人民法院" in html and "民间借贷纠纷" in html
    assert html.count("送达回证</h2>") == 2
    for recipient in report.recipients:
        assert recipient.name in html
        assert recipient.service_date is not None and recipient.legal_basis is not None
        assert format_date(recipient.service_date) in html
        assert recipient.legal_basis in html
    assert "2026年11月21日" in html  # 张三: the date on the return receipt
    assert "2026年11月16日" in html  # the company: the SMS reached its phone
    assert "民事诉讼法第91条" in html and "民事诉讼法第90条；民诉法解释第135条" in html


def test_html_fills_the_receipt_in_chinese(html: str) -> None:
    assert "起诉状副本、应诉通知书、传票" in html and "共 3 件" in html
    assert "邮寄送达（法院专递）" in html and "电子送达（短信）" in html
    assert "李四（同住成年家属，与受送达人关系：配偶）" in html
    assert "实际送达" in html and "视为送达" in html  # the value, and the label of its row
    assert "山东省威海市环翠区新威路17号3单元502室（邮编 264200）" in html
    assert "地址来源：其他案件中确认的地址，（2025）鲁1002民初0456号，2025年12月3日确认" in html
    assert "电子送达依据：（2025）鲁1002民初0321号送达地址确认书，同意电子送达。" in html
    assert "一审" in html and "被告" in html


def test_html_has_the_attempt_log_and_the_integrity_data(report: DeliveryReport, html: str) -> None:
    assert "送达过程记录" in html and "完整性校验" in html
    for heading in ("序号", "层级", "方式", "对象", "开始", "结束", "结果", "说明", "操作人", "证据"):
        assert f"<th>{heading}</th>" in html
    assert "未成功" in html and "成功" in html and "进行中" in html
    assert "138****8000" in html and "139****1234" in html
    receipt = report.recipients[0].attempts[3].evidence[1]
    assert receipt.sha256[:12] in html and f"#{receipt.proof.leaf_index}" in html
    assert "拍摄时间与记录不符" in html
    assert report.seal.report_sha256 in html
    assert report.previous_sha256 is not None and report.previous_sha256 in html
    checkpoint = report.checkpoint
    for value in (checkpoint.origin, str(checkpoint.size), checkpoint.root, checkpoint.key_id):
        assert value in html
    assert format_time(checkpoint.issued_at) in html


def test_html_escapes_a_hostile_name() -> None:
    base = sample_report()
    hostile = base.recipients[0].model_copy(update={"name": '<script>alert("送达")</script>', "relation": "<b>配偶</b>"})
    html = render_html(sample_report(recipients=[hostile, base.recipients[1]]))
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#34;送达&#34;)&lt;/script&gt;" in html
    assert "&lt;b&gt;配偶&lt;/b&gt;" in html


def test_a_public_notice_lists_the_exhausted_methods_and_an_unserved_recipient_says_so() -> None:
    base = sample_report()
    zhang = base.recipients[0]
    exhausted = [
        Exhausted(tier=entry.tier, channel=entry.channel, target=entry.target, reason=entry.detail or "", at=entry.ended_at or entry.started_at) for entry in zhang.attempts[:3]
    ]
    published = zhang.model_copy(
        update={
            "method": ServiceMethod.public_notice,
            "method_name": "公告送达",
            "service_date": date(2026, 12, 21),
            "deemed": True,
            "legal_basis": "民事诉讼法第95条；民诉法解释第138条",
            "signer_name": None,
            "signer_role": None,
            "relation": None,
            "exhausted": exhausted,
        }
    )
    unserved = zhang.model_copy(
        update={
            "name": "孙七",
            "served": False,
            "method": None,
            "method_name": None,
            "service_date": None,
            "legal_basis": None,
            "deemed": None,
            "served_at": None,
            "signer_name": None,
            "signer_role": None,
            "relation": None,
            "exhausted": exhausted,
        }
    )
    html = render_html(sample_report(recipients=[published, unserved], completed_at=None, overdue=True, previous_sha256=None, version=1))
    assert "公告送达前已穷尽的送达方式：" in html
    assert "1. 电子送达·电话（138****8000）：无人接听，2026年11月16日 10:03" in html
    assert "2026年12月21日" in html and "视为送达" in html and "无需签收（公告送达）" in html
    assert "截至本报告出具时尚未送达。" in html and "已尝试但未成功的送达方式：" in html
    assert "尚未全部送达" in html and "无（本报告为首个版本）" in html


def test_evidence_a_supervisor_accepted_despite_its_flags_is_stated_with_the_reason() -> None:
    base = sample_report()
    zhang = base.recipients[0]
    [photo] = [ref for attempt in zhang.attempts for ref in attempt.evidence if ref.kind == "photo"]
    flagged = photo.model_copy(update={"flags": ["far_from_address"]})
    review = Review(by="sup-1", at=datetime(2026, 11, 22, 2, 30, tzinfo=UTC), reason="电话回访确认已送达", flags={flagged.ref: ["far_from_address"]})
    plain = render_html(sample_report(recipients=[zhang.model_copy(update={"evidence": [flagged]}), base.recipients[1]]))
    assert f"证据核查提示：照片 {flagged.sha256[:12]}：拍摄地点距送达地址较远。" in plain and "审核认可" not in plain
    html = render_html(sample_report(recipients=[zhang.model_copy(update={"evidence": [flagged], "review": review}), base.recipients[1]]))
    assert f"证据核查提示：照片 {flagged.sha256[:12]}：拍摄地点距送达地址较远，经督办人员审核认可（理由：电话回访确认已送达；审核人：sup-1，2026年11月22日 10:30）。" in html
    assert html.count("〔经督办人员审核认可〕") == 1
    # An accepted item the receipt does not cite is still named, by its id.
    loose = render_html(sample_report(recipients=[zhang.model_copy(update={"evidence": [], "review": review}), base.recipients[1]]))
    assert f"证据核查提示：{flagged.ref}：拍摄地点距送达地址较远，经督办人员审核认可（理由：电话回访确认已送达" in loose


def test_times_are_shown_in_shanghai_and_dates_in_chinese() -> None:
    assert format_time(datetime(2026, 11, 23, 1, 30, tzinfo=UTC)) == "2026年11月23日 09:30"
    assert format_time(datetime(2026, 11, 22, 23, 5, tzinfo=SHANGHAI)) == "2026年11月22日 23:05"
    assert format_date(date(2026, 11, 23)) == "2026年11月23日"
    assert format_date(date(2027, 1, 5)) == "2027年1月5日"
    assert format_time(None) == "—" and format_date(None) == "—"


@pytest.mark.parametrize(
    ("table", "vocabulary"),
    [
        (rendering.METHOD, ServiceMethod),
        (rendering.TIER, Tier),
        (rendering.CHANNEL, Channel),
        (rendering.SIGNER_ROLE, SignerRole),
        (rendering.STAGE, Stage),
        (rendering.EVIDENCE_KIND, EvidenceKind),
        (rendering.EVIDENCE_FLAG, EvidenceFlag),
        (rendering.DISPOSITION, Disposition),
    ],
)
def test_every_value_has_a_chinese_label(table: dict[StrEnum, str], vocabulary: type[StrEnum]) -> None:
    assert [member for member in vocabulary if member not in table] == []
    assert all(re.search(r"[\u4e00-\u9fff]", text) for text in table.values())


def test_labels_in_the_brief() -> None:
    assert rendering.METHOD[ServiceMethod.refusal] == "留置送达" and rendering.METHOD[ServiceMethod.public_notice] == "公告送达"
    assert [rendering.CHANNEL[c] for c in (Channel.sms, Channel.email, Channel.voice, Channel.lawyer_firm, Channel.visit, Channel.court_mail)] == [
        "短信",
        "电子邮件",
        "电话",
        "律所电子送达",
        "上门",
        "法院专递",
    ]
    assert [rendering.STAGE[s] for s in Stage] == ["一审", "二审", "再审", "执行"]
    assert rendering.RESULT == {"succeeded": "成功", "failed": "未成功", "superseded": "已取代", "open": "进行中"}
    assert rendering.DEEMED == {True: "视为送达", False: "实际送达"}
    assert rendering.label(rendering.SIGNER_ROLE, "family_member") == "同住成年家属"
    assert rendering.label(rendering.SIGNER_ROLE, "neighbour") == "neighbour"


def test_render_pdf_refuses_without_a_chinese_font(monkeypatch: pytest.MonkeyPatch) -> None:
    # A process that has not found a Chinese font yet (one that has remembers it).
    monkeypatch.setattr(pdf, "_CJK_FONT_FOUND", threading.Event())
    monkeypatch.setattr(pdf, "cjk_font_missing", lambda: pdf.NO_CJK_FONT)
    with pytest.raises(RuntimeError, match="fonts-noto-cjk"):
        render_pdf(sample_report())


@pytest.mark.parametrize(
    ("role", "stage", "name"),
    [
        ("defendant", Stage.first_instance, "被告"),
        ("applicant", Stage.first_instance, "申请人"),
        ("applicant", Stage.enforcement, "申请执行人"),
        ("respondent", Stage.enforcement, "被执行人"),
        ("defendant", Stage.enforcement, "被告"),
        ("guarantor", Stage.appeal, "guarantor"),
    ],
)
def test_a_party_role_is_named_for_its_stage(role: str, stage: Stage, name: str) -> None:
    assert party_role(role, stage=stage) == name
