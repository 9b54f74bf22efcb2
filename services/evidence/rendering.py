"""The standardised delivery report (标准化送达报告) in Chinese, as HTML and as PDF.

Per recipient a 送达回证 (service receipt), then the attempt log (送达过程记录) and the integrity data
(seal and log checkpoint). The HTML is self-contained (its stylesheet inline) and prints as the PDF does:
WeasyPrint renders the same HTML with the print rules of `templates/report.css` (A4, running header,
page x / y), in Noto Serif CJK SC found through fontconfig, with the fonts embedded as subsets.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from shared.contracts.events import AddressSource, Channel, Disposition, ServiceMethod
from shared.contracts.evidence import EvidenceFlag, EvidenceKind
from shared.contracts.labels import DOCUMENT_KIND, METHOD, PARTY_KIND, SIGNER_ROLE, STAGE, TIER, party_role
from shared.contracts.report import AttemptEntry, DeliveryReport, DocumentOpening, EvidenceRef, RecipientReport
from shared.plumbing import pdf
from shared.plumbing.clock import SHANGHAI
from shared.plumbing.documents import OFD, PDF

TEMPLATES = Path(__file__).with_name("templates")

# --- Chinese labels: one table per vocabulary (those other services print too are in shared.contracts.labels). A value missing from a table is shown as it is. ---

CHANNEL: dict[Channel, str] = {
    Channel.sms: "短信",
    Channel.email: "电子邮件",
    Channel.voice: "电话",
    Channel.lawyer_firm: "律所电子送达",
    Channel.visit: "上门",
    Channel.court_mail: "法院专递",
    Channel.posting: "张贴",
    Channel.publication: "公告",
}

# AttemptEntry.result
RESULT: dict[str, str] = {"succeeded": "成功", "failed": "未成功", "open": "进行中"}

# RecipientReport.deemed
DEEMED: dict[bool, str] = {True: "视为送达", False: "实际送达"}

EVIDENCE_KIND: dict[str, str] = {
    EvidenceKind.call_record: "通话记录",
    EvidenceKind.sms_receipt: "短信回执",
    EvidenceKind.email_receipt: "邮件回执",
    EvidenceKind.edelivery_receipt: "电子送达回执",
    EvidenceKind.photo: "照片",
    EvidenceKind.video: "视频",
    EvidenceKind.ems_trace: "邮件轨迹",
    EvidenceKind.return_receipt_scan: "回执扫描件",
    EvidenceKind.signature: "签名",
    EvidenceKind.signed_receipt: "已签收送达回证",
    EvidenceKind.firm_agreement: "律所电子送达协议",
    "event": "系统记录",
}

EVIDENCE_FLAG: dict[EvidenceFlag, str] = {
    EvidenceFlag.no_gps: "无定位信息",
    EvidenceFlag.far_from_address: "拍摄地点距送达地址较远",
    EvidenceFlag.time_mismatch: "拍摄时间与记录不符",
    EvidenceFlag.exif_stripped: "元数据缺失",
    EvidenceFlag.edited_by_software: "经软件编辑",
    EvidenceFlag.no_reference_location: "无可比对的地址位置",
}

ADDRESS_SOURCE: dict[AddressSource, str] = {
    AddressSource.confirmation: "送达地址确认书",
    AddressSource.contract: "合同约定的地址",
    AddressSource.filing: "当事人提交的诉讼材料",
    AddressSource.other_case: "其他案件中确认的地址",
    AddressSource.civil_activity: "近一年民事活动常用地址",
    AddressSource.household: "户籍登记地址",
    AddressSource.delivery: "送达中查明的地址",
}

OPERATOR: dict[str, str] = {"system": "系统自动"}
DISPOSITION: dict[Disposition, str] = {Disposition.view: "在线查看", Disposition.download: "下载"}
CONTENT_TYPE: dict[str, str] = {PDF: "PDF", OFD: "OFD"}

_NONE = "—"


def label(table: dict[Any, str], value: Any) -> str:
    """Returns the Chinese label of `value` from `table`, the value itself when the table lacks it, or a dash for None."""
    if value is None:
        return _NONE
    return table.get(value, str(value))


def format_time(moment: datetime | None) -> str:
    """Returns a moment in Asia/Shanghai as `2026年11月23日 09:30` (month and day unpadded, GB/T 9704)."""
    if moment is None:
        return _NONE
    local = moment.astimezone(SHANGHAI)
    return f"{format_date(local.date())} {local:%H:%M}"


def format_date(day: date | None) -> str:
    """Returns a date as `2026年11月23日`."""
    if day is None:
        return _NONE
    return f"{day.year}年{day.month}月{day.day}日"


# --- The view: what each cell of the form says, worked out here so the template only lays it out. ---


@dataclass(frozen=True)
class EvidenceLine:
    kind: str
    digest: str
    leaf_index: int
    flags: list[str]
    # A supervisor accepted the item despite its flags.
    accepted: bool = False


@dataclass(frozen=True)
class AttemptRow:
    sequence: int
    tier: str
    channel: str
    target: str
    started: str
    ended: str
    result: str
    result_class: str
    detail: str
    operator: str
    evidence: list[EvidenceLine]


@dataclass(frozen=True)
class DocumentRow:
    number: int
    title: str
    kind: str
    pages: int
    file: str
    sha256: str


@dataclass(frozen=True)
class OpeningRow:
    at: str
    title: str
    disposition: str
    ip: str
    browser: str
    leaf_index: int


@dataclass(frozen=True)
class Receipt:
    recipient_id: str
    name: str
    role: str
    kind: str
    id_number: str | None
    address: str
    address_note: str | None
    served: bool
    method: str
    service_date: str
    legal_basis: str
    deemed: str
    signer: str
    witness: str
    server: str
    evidence: list[EvidenceLine]
    remarks: list[str]
    attempts: list[AttemptRow]
    openings: list[OpeningRow]


def _evidence(ref: EvidenceRef, *, accepted: bool = False) -> EvidenceLine:
    return EvidenceLine(
        kind=label(EVIDENCE_KIND, ref.kind),
        digest=ref.sha256[:12],
        leaf_index=ref.proof.leaf_index,
        flags=[label(EVIDENCE_FLAG, flag) for flag in ref.flags],
        accepted=accepted,
    )


def _flag_names(flags: list[str]) -> str:
    return "、".join(label(EVIDENCE_FLAG, flag) for flag in flags)


def _attempt(entry: AttemptEntry) -> AttemptRow:
    return AttemptRow(
        sequence=entry.sequence,
        tier=label(TIER, entry.tier),
        channel=label(CHANNEL, entry.channel),
        target=entry.target or _NONE,
        started=format_time(entry.started_at),
        ended=format_time(entry.ended_at),
        result=label(RESULT, entry.result),
        result_class=entry.result if entry.result in RESULT else "other",
        detail=entry.detail or _NONE,
        operator=label(OPERATOR, entry.operator),
        evidence=[_evidence(ref) for ref in entry.evidence],
    )


def deciding_attempt(recipient: RecipientReport) -> AttemptEntry | None:
    """Returns the attempt the service rests on, as the report names it; None when unserved or the attempt is not in the log."""
    return next((entry for entry in recipient.attempts if entry.attempt_id == recipient.deciding_attempt_id), None)


def _address(recipient: RecipientReport, decider: AttemptEntry | None) -> tuple[str, str | None]:
    used = next((address for address in recipient.addresses if address.used), None)
    if used is not None:
        text = f"{used.text}（邮编 {used.postcode}）" if used.postcode else used.text
        sources = []
        for provenance in used.provenance:
            source = label(ADDRESS_SOURCE, provenance.kind)
            details = [part for part in (provenance.source_case, f"{format_date(provenance.confirmed_on)}确认" if provenance.confirmed_on else None, provenance.basis) if part]
            sources.append("，".join([source, *details]))
        return text, ("地址来源：" + "；".join(sources)) if sources else None
    if decider is not None and decider.target and recipient.method == ServiceMethod.electronic:
        return f"{label(CHANNEL, decider.channel)}：{decider.target}", "电子送达地址"
    return _NONE, None


def _signer(recipient: RecipientReport) -> str:
    if recipient.signer_name:
        parts = [label(SIGNER_ROLE, recipient.signer_role)] if recipient.signer_role else []
        if recipient.relation:
            parts.append(f"与受送达人关系：{recipient.relation}")
        return f"{recipient.signer_name}（{'，'.join(parts)}）" if parts else recipient.signer_name
    if not recipient.served:
        return _NONE
    return (
        {
            ServiceMethod.electronic: "无需签收（以送达信息到达受送达人特定系统的日期为送达日期）",
            ServiceMethod.refusal: "受送达人拒绝签收",
            ServiceMethod.posting: "无需签收（张贴送达）",
            ServiceMethod.public_notice: "无需签收（公告送达）",
        }.get(recipient.method, _NONE)
        if recipient.method
        else _NONE
    )


def _remarks(recipient: RecipientReport, decider: AttemptEntry | None) -> list[str]:
    remarks: list[str] = []
    if not recipient.served:
        remarks.append("截至本报告出具时尚未送达。")
    if recipient.exhausted:
        lead = "公告送达前已穷尽的送达方式：" if recipient.method in (ServiceMethod.public_notice, ServiceMethod.posting) else "已尝试但未成功的送达方式："
        remarks.append(lead)
        for number, tried in enumerate(recipient.exhausted, start=1):
            target = f"（{tried.target}）" if tried.target else ""
            remarks.append(f"{number}. {label(TIER, tried.tier)}·{label(CHANNEL, tried.channel)}{target}：{tried.reason}，{format_time(tried.at)}")
    if recipient.served and recipient.method == ServiceMethod.electronic and decider is not None:
        basis = next((used.basis for used in recipient.channels if used.channel == decider.channel and used.basis), None)
        if basis:
            remarks.append(f"电子送达依据：{basis}。")
    if recipient.deemed and recipient.served_at is not None:
        remarks.append(f"本件为视为送达，送达日期依法律依据栏所列条文确定（系统记录于{format_time(recipient.served_at)}）。")
    flagged = {ref.ref: f"{label(EVIDENCE_KIND, ref.kind)} {ref.sha256[:12]}：{_flag_names(ref.flags)}" for ref in recipient.evidence if ref.flags}
    review = recipient.review
    if review is not None:
        # The flags the supervisor set aside are stated even for an item the report does not cite.
        for item, flags in review.flags.items():
            flagged.setdefault(item, f"{item}：{_flag_names(flags)}")
    if flagged:
        accepted = f"，经督办人员审核认可（理由：{review.reason}；审核人：{review.by}，{format_time(review.at)}）" if review is not None else ""
        remarks.append("证据核查提示：" + "；".join(flagged.values()) + accepted + "。")
    return remarks


def _receipt(report: DeliveryReport, recipient: RecipientReport) -> Receipt:
    decider = deciding_attempt(recipient)
    address, address_note = _address(recipient, decider)
    method = label(METHOD, recipient.method) if recipient.method else (recipient.method_name or _NONE)
    if decider is not None and recipient.method is not None:
        method = f"{method}（{label(CHANNEL, decider.channel)}）"
    witness = f"{recipient.witness.name}（{recipient.witness.organisation}）" if recipient.witness else "无"
    return Receipt(
        recipient_id=recipient.recipient_id,
        name=recipient.name,
        role=party_role(recipient.role, stage=report.stage),
        kind=label(PARTY_KIND, recipient.kind),
        id_number=recipient.id_number,
        address=address,
        address_note=address_note,
        served=recipient.served,
        method=method if recipient.served else "未送达",
        service_date=format_date(recipient.service_date),
        legal_basis=recipient.legal_basis or _NONE,
        deemed=label(DEEMED, recipient.deemed) if recipient.served else "未送达",
        signer=_signer(recipient),
        witness=witness,
        server=label(OPERATOR, decider.operator) if decider is not None else _NONE,
        evidence=[_evidence(ref, accepted=recipient.review is not None and ref.ref in recipient.review.flags) for ref in recipient.evidence],
        remarks=_remarks(recipient, decider),
        attempts=[_attempt(entry) for entry in sorted(recipient.attempts, key=lambda entry: entry.sequence)],
        openings=[_opening(opening) for opening in recipient.openings],
    )


def _opening(opening: DocumentOpening) -> OpeningRow:
    return OpeningRow(
        at=format_time(opening.opened_at),
        title=opening.title,
        disposition=label(DISPOSITION, opening.disposition),
        ip=opening.ip or _NONE,
        browser=opening.user_agent or _NONE,
        leaf_index=opening.receipt.proof.leaf_index,
    )


def _documents(report: DeliveryReport) -> list[DocumentRow]:
    return [
        DocumentRow(
            number=number,
            title=document.title,
            kind=label(DOCUMENT_KIND, document.kind),
            pages=document.pages,
            file=label(CONTENT_TYPE, document.content_type) if document.content_type else _NONE,
            sha256=document.sha256 or _NONE,
        )
        for number, document in enumerate(report.documents, start=1)
    ]


@functools.cache
def _environment() -> Environment:
    """The template environment, built on first use (never at import): autoescaping, strict about undefined names."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["time"] = format_time
    environment.filters["date"] = format_date
    return environment


STYLESHEET = TEMPLATES / "report.css"


@functools.cache
def _stylesheet() -> Markup:
    # The stylesheet is ours and goes inline as it is, so the HTML stands alone.
    return Markup(STYLESHEET.read_text(encoding="utf-8"))


def _page(report: DeliveryReport, *, stylesheet: Markup) -> str:
    return (
        _environment()
        .get_template("report.html")
        .render(
            report=report,
            receipts=[_receipt(report, recipient) for recipient in report.recipients],
            stage=label(STAGE, report.stage),
            documents="、".join(document.title for document in report.documents),
            document_rows=_documents(report),
            format_time=format_time,
            format_date=format_date,
            stylesheet=stylesheet,
        )
    )


def render_html(report: DeliveryReport) -> str:
    """Returns the report as one self-contained HTML page (zh-CN): the receipts, the attempt log and the integrity data."""
    return _page(report, stylesheet=_stylesheet())


def render_pdf(report: DeliveryReport) -> bytes:
    """Returns the report as an A4 PDF with its fonts embedded as subsets; raises RuntimeError when no Chinese font is installed."""
    # The same page with the same rules, parsed once per rendering thread instead of inline on every render.
    return pdf.html_to_pdf(_page(report, stylesheet=Markup("")), base_url=str(TEMPLATES), stylesheets=(STYLESHEET,))
