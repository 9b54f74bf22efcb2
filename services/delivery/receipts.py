"""The 送达回证 an agent prints for a visit: pre-filled from the notice and the task, in Chinese, with blank boxes for the signatures; HTML laid out for A4, its PDF, and the print-out of it with the documents."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from services.delivery.domain import law
from services.delivery.domain.state import RecipientState
from services.delivery.models import DeliveryNotice, DeliveryTask
from shared.contracts.events import SignerRole, Stage
from shared.contracts.labels import SIGNER_ROLE, STAGE, party_role
from shared.plumbing import pdf
from shared.plumbing.clock import SHANGHAI
from shared.plumbing.documents import OFD, PDF, merge_pdfs

TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class ReceiptForm:
    """What each cell of the form says, worked out here so the template only lays it out."""

    task_id: str
    court_name: str
    case_number: str
    cause: str
    stage: str
    documents: list[str]
    # Documents kept as OFD: browsers and printers' PDF paths cannot take them, so the agent prints them separately.
    separate: list[str]
    recipient_name: str
    recipient_role: str
    address: str
    window: str
    signers: str


def _day_and_time(moment: datetime) -> str:
    local = moment.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def window(start: datetime, end: datetime) -> str:
    """Returns a visit window in Beijing time: `2026年11月23日 09:00至12:00`, the day repeated only when it ends on another."""
    first, last = start.astimezone(SHANGHAI), end.astimezone(SHANGHAI)
    until = f"{last:%H:%M}" if first.date() == last.date() else _day_and_time(last)
    return f"{_day_and_time(first)}至{until}"


def form(task: DeliveryTask, state: RecipientState, *, notice: DeliveryNotice) -> ReceiptForm:
    """Returns the form for a task: the case from the notice, the recipient from its state, the place and window from the task."""
    allowed = law.SIGNERS[state.recipient.kind]
    return ReceiptForm(
        task_id=task.id,
        court_name=notice.court_name,
        case_number=notice.case_number,
        cause=notice.cause or "—",
        stage=STAGE[Stage(notice.stage)],
        documents=[document["title"] for document in notice.documents],
        separate=[document["title"] for document in notice.documents if document.get("content_type") == OFD],
        recipient_name=state.recipient.name,
        recipient_role=party_role(state.recipient.role, stage=notice.stage),
        address=f"{task.address}（邮编 {task.postcode}）" if task.postcode else task.address,
        window=window(task.window_start, task.window_end),
        signers="、".join(SIGNER_ROLE[role] for role in SignerRole if role in allowed),
    )


@functools.cache
def _environment() -> Environment:
    """The template environment, built on first use (never at import): autoescaping, strict about undefined names."""
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined)


def render_html(receipt: ReceiptForm) -> str:
    """Returns the form as one self-contained HTML page (zh-CN), its print rules inline."""
    return _environment().get_template("receipt.html").render(form=receipt)


def render_pdf(receipt: ReceiptForm) -> bytes:
    """Returns the form as an A4 PDF; raises RuntimeError when no Chinese font is installed."""
    return pdf.html_to_pdf(render_html(receipt), base_url=str(TEMPLATES))


def printed(notice: DeliveryNotice) -> list[dict[str, Any]]:
    """Returns the notice's documents that go into the print-out after the form: the stored PDFs, in the notice's order."""
    # A notice registered before files were kept names no content type: its documents are only listed on the form.
    return [document for document in notice.documents if document.get("content_type") == PDF]


def print_out(receipt: ReceiptForm, documents: list[bytes]) -> bytes:
    """Returns the form followed by every PDF document, one file for the agent to print."""
    return merge_pdfs([render_pdf(receipt), *documents])
