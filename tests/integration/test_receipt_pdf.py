"""The 送达回证 an agent prints for a visit, as WeasyPrint renders it with the installed Chinese font and poppler-utils reads it back."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.delivery import receipts
from services.delivery.domain.state import Case, RecipientState
from services.delivery.models import DeliveryNotice, DeliveryTask, NoticeStatus, TaskStatus
from shared.contracts.events import Document, PartyKind, Stage
from tests.pdfs import pdf_pages, poppler
from tests.support import EXAMPLES, HOME, example_document, registered_notice, sample_ofd

# Monday 23 November 2026, 09:00 to 12:00 in Beijing.
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
END = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def receipt_form(*, kind: PartyKind = PartyKind.person, stage: Stage = Stage.first_instance, documents: list[dict[str, Any]] | None = None) -> receipts.ReceiptForm:
    """The form for a visit to the example recipient, a person or an organisation, at a stage of the case (the example's documents unless others are given)."""
    registered = registered_notice(registered_at=START)
    if documents is not None:
        registered = registered.model_copy(update={"documents": [Document.model_validate(d) for d in documents]})
    recipient = registered.recipients[0].model_copy(update={"kind": kind, "role": "respondent" if stage is Stage.enforcement else "defendant"})
    case = Case(notice_id=registered.notice_id, court_id=registered.court_id, court_name=registered.court_name, case_number=registered.case_number, documents=[])
    notice = DeliveryNotice(
        id=registered.notice_id,
        court_id=registered.court_id,
        court_name=registered.court_name,
        case_number=registered.case_number,
        cause=registered.cause,
        stage=stage,
        due_date=registered.due_date,
        status=NoticeStatus.in_progress,
        correlation_id=registered.notice_id,
        registered_at=START,
        received_at=START,
        documents=[d.model_dump(mode="json") for d in registered.documents],
    )
    task = DeliveryTask(
        id="task-0001",
        attempt_id="attempt-0001",
        notice_id=notice.id,
        recipient_id=recipient.recipient_id,
        kind="visit",
        agent_id="agent-huancui-1",
        status=TaskStatus.open,
        address=HOME,
        postcode="264200",
        window_start=START,
        window_end=END,
        created_at=START,
    )
    return receipts.form(task, RecipientState(case=case, recipient=recipient, plan=[]), notice=notice)


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return receipts.render_pdf(receipt_form())


def test_the_receipt_carries_the_case_the_recipient_and_the_boxes_to_sign_as_characters(pdf: bytes, tmp_path: Path) -> None:
    assert pdf.startswith(b"%PDF-")
    [page] = pdf_pages(pdf, tmp_path)
    squeezed = re.sub(r"\s+", "", page)
    for text in (
        "威海市环翠区人民法院",
        "送达回证",
        "（2026）鲁1002民初1234号",
        "民间借贷纠纷",
        "一审",
        "起诉状副本、传票共2件",
        "张三（被告）",
        f"{HOME}（邮编264200）",
        "2026年11月23日09:00至12:00",
        "依法可签收人：本人、同住成年家属、诉讼代理人、法定代理人、代收人",
    ):
        assert text in squeezed, text
    # Each box's label, as the form lays it over two lines where it is long.
    for label in ("受送达人", "签名或盖章", "代收人及与", "受送达人关系", "签收日期", "送达人签名"):
        assert label in squeezed, label


def test_the_receipt_is_one_a4_page_with_the_chinese_font_embedded(pdf: bytes, tmp_path: Path) -> None:
    info = poppler("pdfinfo", pdf, tmp_path)
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE), info
    assert re.search(r"^Page size:\s+595.\d+ x 841.\d+ pts \(A4\)$", info, re.MULTILINE), info
    rows = poppler("pdffonts", pdf, tmp_path).splitlines()[2:]
    assert rows and all(row.split()[-5:-2] == ["yes", "yes", "yes"] for row in rows), rows


def test_an_organisations_receipt_names_who_signs_for_it_and_enforcement_names_its_roles(tmp_path: Path) -> None:
    [page] = pdf_pages(receipts.render_pdf(receipt_form(kind=PartyKind.organisation, stage=Stage.enforcement)), tmp_path)
    squeezed = re.sub(r"\s+", "", page)
    assert "依法可签收人：法定代表人、主要负责人、收发部门、诉讼代理人、代收人" in squeezed
    assert "张三（被执行人）" in squeezed and "执行" in squeezed


def test_the_print_out_is_the_receipt_then_each_pdf_document_and_names_the_ofd_ones_to_print_apart(tmp_path: Path) -> None:
    ofd = {"title": "判决书", "kind": "judgment", "pages": 2, "sha256": hashlib.sha256(sample_ofd(2)).hexdigest(), "size": len(sample_ofd(2)), "content_type": "application/ofd"}
    form = receipt_form(documents=[example_document("complaint_copy"), ofd, example_document("summons")])
    notice_documents = [example_document("complaint_copy"), ofd, example_document("summons")]
    printed = receipts.print_out(form, [(EXAMPLES / f"{d['kind']}.pdf").read_bytes() for d in notice_documents if d["content_type"] == "application/pdf"])
    pages = [re.sub(r"\s+", "", page) for page in pdf_pages(printed, tmp_path)]
    assert len(pages) == 3
    assert "送达回证" in pages[0] and "起诉状副本、判决书、传票共3件" in pages[0] and "OFD版式文书另行打印：判决书" in pages[0]
    assert "起诉状副本" in pages[1] and "诉讼请求" in pages[1]
    assert "传票" in pages[2] and "被传唤人" in pages[2]
