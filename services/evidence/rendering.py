"""The standardised delivery report (标准化送达报告) in Chinese, as HTML and as PDF.

Per recipient a 送达回证 (service receipt), then the attempt log (送达过程记录) and the integrity data
(seal and log checkpoint). The HTML is self-contained (its stylesheet inline) and prints as the PDF does:
WeasyPrint renders the same HTML with the print rules of `templates/report.css` (A4, running header,
page x / y), in Noto Serif CJK SC found through fontconfig, with the fonts embedded as subsets.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from services.evidence.phrases import EVIDENCE_FLAG, Phrase, phrase, remark
from shared.contracts.events import AddressSource, Channel, ConsentForm, Disposition, ServiceMethod
from shared.contracts.evidence import EvidenceKind
from shared.contracts.labels import CONSENT_FORM, DOCUMENT_KIND, METHOD, PARTY_KIND, SIGNER_ROLE, STAGE, TIER, party_role
from shared.contracts.report import Acknowledgement, AttemptEntry, ChannelUsed, ConsentUsed, DeliveryReport, DocumentOpening, EvidenceRef, RecipientReport
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
RESULT: dict[str, str] = {"succeeded": "成功", "failed": "未成功", "superseded": "已取代", "open": "进行中"}

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
# Transmission.provider, in an operator such as 系统（twilio）.
PROVIDER: dict[str, str] = {"twilio": "短信及语音服务商", "smtp": "邮件服务器"}
_BY_PROVIDER = re.compile(r"系统（(?P<provider>[^）]+)）")
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
    detail: Phrase
    operator: str
    evidence: list[EvidenceLine]
    remarks: list[Phrase]


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
    # The lawyer's console username, when one opened it from the firm's inbox.
    account: str | None


@dataclass(frozen=True)
class AcknowledgementRow:
    at: str
    by: str
    # The lawyer's console username, when one signed in to acknowledge.
    account: str | None
    ip: str
    browser: str
    leaf_index: int


@dataclass(frozen=True)
class Certificate:
    """The electronic service certificate (电子送达凭证, OLR Art. 31): where and when it was sent and arrived, and each acknowledgement."""

    address: str
    sent: str
    arrived: str
    acknowledgements: list[AcknowledgementRow]


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
    remarks: list[Phrase]
    attempts: list[AttemptRow]
    openings: list[OpeningRow]
    lawyer: str | None
    certificate: Certificate | None


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


SUPERSEDED = "已由先完成的送达取代"


def _detail(entry: AttemptEntry, sequences: dict[str, int]) -> Phrase:
    if entry.superseded_by is not None:
        # OLR Art. 32: the earliest effective service counts; the parallel attempt it stopped says which one.
        first = sequences.get(entry.superseded_by)
        return Phrase(f"{SUPERSEDED}（第 {first} 次送达）" if first else SUPERSEDED)
    return phrase(entry.detail) if entry.detail else Phrase(_NONE)


def _attempt(entry: AttemptEntry, sequences: dict[str, int]) -> AttemptRow:
    return AttemptRow(
        sequence=entry.sequence,
        tier=label(TIER, entry.tier),
        channel=label(CHANNEL, entry.channel),
        target=entry.target or _NONE,
        started=format_time(entry.started_at),
        ended=format_time(entry.ended_at),
        result=label(RESULT, entry.result),
        result_class=entry.result if entry.result in RESULT else "other",
        detail=_detail(entry, sequences),
        operator=_operator(entry.operator),
        evidence=[_evidence(ref) for ref in entry.evidence],
        remarks=[remark(code) for code in entry.remarks],
    )


def _operator(operator: str) -> str:
    """Names who made an attempt: an agent by id, the system, or the system through a provider named in Chinese."""
    match = _BY_PROVIDER.fullmatch(operator)
    if match is not None:
        return f"系统（{label(PROVIDER, match['provider'])}）"
    return label(OPERATOR, operator)


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


# DocumentsAcknowledged.by when the recipient replied to the message itself (OLR Art. 31(2)), not a lawyer's account.
REPLIED_BY = {"reply:sms": "受送达人回复短信确认收到", "reply:email": "受送达人回复电子邮件确认收到"}


def _acknowledged_by(recipient: RecipientReport, acknowledgement: Acknowledgement) -> str:
    """Who acknowledged: the lawyer as litigation agent (CPL 88) signed in for the firm, the holder of the e-delivery link, or the recipient by its reply."""
    if acknowledgement.by is None:
        return "受送达人（凭电子送达链接）"
    if acknowledgement.by in REPLIED_BY:
        return REPLIED_BY[acknowledgement.by]
    if recipient.lawyer is not None:
        return f"诉讼代理人（律师）{recipient.lawyer.name}，{recipient.lawyer.firm}"
    return "诉讼代理人（律师）"


def _signer(recipient: RecipientReport, decider: AttemptEntry | None) -> str:
    acknowledged = [a for a in recipient.acknowledgements if decider is not None and a.attempt_id == decider.attempt_id]
    if recipient.served and recipient.method == ServiceMethod.electronic and acknowledged:
        first = acknowledged[0]
        how = "" if first.by in REPLIED_BY else "在线签收"
        return f"{_acknowledged_by(recipient, first)}{how}（{format_time(first.at)}，详见电子送达凭证）"
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


def _consent_remarks(consent: ConsentUsed | ChannelUsed) -> list[str]:
    """States the consent an e-service rests on: its form and source (OLR Art. 29), and an address the recipient did not give (Art. 31(2))."""
    if isinstance(consent, ConsentUsed):
        source = consent.source or f"{consent.source_case}送达地址确认书（{format_date(consent.confirmed_on)}）"
    else:
        source = consent.source or consent.basis or _NONE
    lines = [f"电子送达依据：{label(CONSENT_FORM, consent.form)}，{source}。"]
    if not consent.address_confirmed:
        lines.append("该电子送达地址并非受送达人提供或确认（《人民法院在线诉讼规则》第三十一条第二款）。")
    return lines


def _consent(recipient: RecipientReport, decider: AttemptEntry) -> list[str]:
    if recipient.consent is not None:
        return _consent_remarks(recipient.consent)
    used = next((used for used in recipient.channels if used.channel == decider.channel and used.basis), None)
    if used is None:
        return []
    # A confirmation recorded before consents had forms reads as it always did.
    if used.form is ConsentForm.express and used.source is None and used.address_confirmed:
        return [f"电子送达依据：{used.basis}。"]
    return _consent_remarks(used)


def _remarks(recipient: RecipientReport, decider: AttemptEntry | None) -> list[Phrase]:
    remarks: list[Phrase] = []
    if not recipient.served:
        remarks.append(Phrase("截至本报告出具时尚未送达。"))
    if recipient.exhausted:
        lead = "公告送达前已穷尽的送达方式：" if recipient.method in (ServiceMethod.public_notice, ServiceMethod.posting) else "已尝试但未成功的送达方式："
        remarks.append(Phrase(lead))
        for number, tried in enumerate(recipient.exhausted, start=1):
            target = f"（{tried.target}）" if tried.target else ""
            reason = phrase(tried.reason) if tried.reason else Phrase(_NONE)
            remarks.append(Phrase(f"{number}. {label(TIER, tried.tier)}·{label(CHANNEL, tried.channel)}{target}：{reason.text}，{format_time(tried.at)}", raw=reason.raw))
    return remarks + [Phrase(line) for line in _service_lines(recipient, decider)]


def _service_lines(recipient: RecipientReport, decider: AttemptEntry | None) -> list[str]:
    remarks: list[str] = []
    if recipient.served and recipient.method == ServiceMethod.electronic and decider is not None:
        remarks.extend(_consent(recipient, decider))
    if recipient.presumed:
        remarks.append(
            "本件为推定送达：送达的电子地址并非受送达人提供或确认，系统显示已阅读或有其他证据证明受送达人已收悉，"
            "依《人民法院在线诉讼规则》第三十一条第二款推定送达，受送达人能够证明未收悉的除外。"
        )
    elif recipient.deemed and recipient.served_at is not None:
        remarks.append(f"本件为视为送达，送达日期依法律依据栏所列条文确定（系统记录于{format_time(recipient.served_at)}）。")
    if recipient.deemed_reason:
        remarks.append(f"{'推定' if recipient.presumed else '视为'}送达理由：{recipient.deemed_reason}。")
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
    sequences = {entry.attempt_id: entry.sequence for entry in recipient.attempts}
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
        deemed=("推定送达" if recipient.presumed else label(DEEMED, recipient.deemed)) if recipient.served else "未送达",
        signer=_signer(recipient, decider),
        witness=_witness(recipient),
        server=_operator(decider.operator) if decider is not None else _NONE,
        evidence=[_evidence(ref, accepted=recipient.review is not None and ref.ref in recipient.review.flags) for ref in recipient.evidence],
        remarks=_remarks(recipient, decider),
        attempts=[_attempt(entry, sequences) for entry in sorted(recipient.attempts, key=lambda entry: entry.sequence)],
        openings=[_opening(opening) for opening in recipient.openings],
        lawyer=f"诉讼代理人（律师）：{recipient.lawyer.name}，{recipient.lawyer.firm}" if recipient.lawyer else None,
        certificate=_certificate(recipient, decider),
    )


def _witness(recipient: RecipientReport) -> str:
    """The witness of a refusal and what the receipt must record of it: the date and the reason for refusing (CPL 89)."""
    witness = recipient.witness
    if witness is None:
        return "无"
    parts = [f"{witness.name}（{witness.organisation}）"]
    if witness.witnessed_on is not None:
        parts.append(f"见证日期：{format_date(witness.witnessed_on)}")
    if witness.refusal_reason:
        parts.append(f"拒收理由：{witness.refusal_reason}")
    return "；".join(parts)


def _certificate(recipient: RecipientReport, decider: AttemptEntry | None) -> Certificate | None:
    """The electronic service certificate, for a recipient served electronically or one who acknowledged documents."""
    electronic = decider if decider is not None and recipient.method == ServiceMethod.electronic else None
    if electronic is None and not recipient.acknowledgements:
        return None
    return Certificate(
        address=f"{label(CHANNEL, electronic.channel)}：{electronic.target or _NONE}" if electronic else _NONE,
        sent=format_time(electronic.started_at) if electronic else _NONE,
        arrived=format_time(electronic.ended_at) if electronic else _NONE,
        acknowledgements=[
            AcknowledgementRow(
                at=format_time(a.at),
                by=_acknowledged_by(recipient, a),
                account=None if a.by in REPLIED_BY else a.by,
                ip=a.ip or _NONE,
                browser=a.user_agent or _NONE,
                leaf_index=a.receipt.proof.leaf_index,
            )
            for a in recipient.acknowledgements
        ],
    )


def _opening(opening: DocumentOpening) -> OpeningRow:
    return OpeningRow(
        at=format_time(opening.opened_at),
        title=opening.title,
        disposition=label(DISPOSITION, opening.disposition),
        ip=opening.ip or _NONE,
        browser=opening.user_agent or _NONE,
        leaf_index=opening.receipt.proof.leaf_index,
        account=opening.by,
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
            due_date=format_date(report.due_date) if report.due_date else None,
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
