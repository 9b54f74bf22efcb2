"""The delivery report as the court's PDF: WeasyPrint renders it with the installed Chinese font and poppler-utils reads it back.

Moved from the unit tier: these tests need the machine's fonts, WeasyPrint's layout and poppler's tools, and take seconds.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from services.evidence.rendering import render_pdf
from shared.contracts.report import AttemptEntry, DeliveryReport
from shared.plumbing import pdf as html_pdf
from shared.plumbing.clock import SHANGHAI
from tests.pdfs import pdf_pages, poppler
from tests.reports import CASE_NUMBER, attempt, evidence, sample_report


def long_report() -> DeliveryReport:
    """One recipient with 60 logged attempts: the attempt log runs over several pages."""
    base = sample_report()
    first = datetime(2026, 11, 16, 8, 0, tzinfo=SHANGHAI)
    attempts = [
        AttemptEntry.model_validate(
            attempt(
                n,
                "electronic",
                "voice",
                "138****8000",
                (first + timedelta(hours=n)).isoformat(),
                (first + timedelta(hours=n, minutes=1)).isoformat(),
                "failed",
                f"第{n}次拨打，无人接听",
                "系统",
                [evidence(f"ev-long-{n}", "call_record", 2000 + n, (first + timedelta(hours=n, minutes=1)).isoformat())],
            )
        )
        for n in range(1, 61)
    ]
    return sample_report(recipients=[base.recipients[0].model_copy(update={"attempts": attempts})])


@pytest.fixture(scope="module")
def report() -> DeliveryReport:
    return sample_report()


@pytest.fixture(scope="module")
def pdf(report: DeliveryReport) -> bytes:
    return render_pdf(report)


def test_the_pdf_carries_the_chinese_text_as_characters(pdf: bytes, tmp_path: Path) -> None:
    assert pdf.startswith(b"%PDF-")
    pages = pdf_pages(pdf, tmp_path)
    text = "\n".join(pages)
    assert CASE_NUMBER in text
    assert "张三" in text and "威海某某贸易有限公司" in text
    assert "送达回证" in text
    assert "2026年11月21日" in text
    # The running header names the case on every page; the footer counts the pages.
    assert all(CASE_NUMBER in page for page in pages)
    squeezed = [re.sub(r"\s+", "", page) for page in pages]
    assert all(f"第{n}页/共{len(pages)}页" in page for n, page in enumerate(squeezed, start=1))


def test_the_pdf_is_a4_and_embeds_subsets_of_the_serif_cjk_font(pdf: bytes, tmp_path: Path) -> None:
    info = poppler("pdfinfo", pdf, tmp_path)
    assert re.search(r"^Page size:\s+595.\d+ x 841.\d+ pts \(A4\)$", info, re.MULTILINE), info
    assert re.search(r"^Title:\s+送达回证 · （2026）鲁1002民初0999号$", info, re.MULTILINE), info
    rows = poppler("pdffonts", pdf, tmp_path).splitlines()[2:]
    assert any("Noto-Serif-CJK-SC" in row for row in rows), rows
    # Columns: name type encoding emb sub uni object ID; every font embedded as a subset.
    assert rows and all(row.split()[-5:-2] == ["yes", "yes", "yes"] for row in rows), rows


def test_a_long_attempt_log_runs_over_pages_with_its_header_repeated(tmp_path: Path) -> None:
    pages = pdf_pages(render_pdf(long_report()), tmp_path)
    assert len(pages) >= 2
    log_pages = [page for page in pages if "序号" in page and "操作人" in page]
    assert len(log_pages) >= 2
    text = "\n".join(pages)
    assert "第1次拨打" in text and "第60次拨打" in text


def test_cjk_font_missing_asks_fontconfig(monkeypatch: pytest.MonkeyPatch) -> None:
    assert html_pdf.cjk_font_missing() is None, "fonts-noto-cjk must be installed for the PDF tests (.ci/run installs it)"
    monkeypatch.setattr(html_pdf.subprocess, "run", lambda *args, **kwargs: subprocess.CompletedProcess(args, 0, stdout="\n", stderr=""))
    message = html_pdf.cjk_font_missing()
    assert message is not None and "fonts-noto-cjk" in message
    monkeypatch.setattr(html_pdf.shutil, "which", lambda name: None)
    message = html_pdf.cjk_font_missing()
    assert message is not None and "fontconfig" in message


def test_renders_from_several_threads_at_once_come_out_byte_for_byte_the_same(report: DeliveryReport, pdf: bytes) -> None:
    # The stored PDF is named by its sha256: a version rendered again, by any thread, must be the same file.
    with ThreadPoolExecutor(max_workers=3) as pool:
        assert set(pool.map(lambda _: render_pdf(report), range(3))) == {pdf}


def test_pages_are_typeset_in_a_process_of_their_own_at_a_lower_priority(report: DeliveryReport, pdf: bytes) -> None:
    # A render holds the GIL for half a second: in the service's own process it stalled the event loop.
    typesetting = html_pdf.typesetter.pid()
    assert typesetting != os.getpid()
    assert os.getpriority(os.PRIO_PROCESS, typesetting) == os.getpriority(os.PRIO_PROCESS, 0) + html_pdf.TYPESETTER_NICENESS
    assert render_pdf(report) == pdf


def test_a_render_after_the_typesetting_process_was_killed_starts_a_new_one(report: DeliveryReport, pdf: bytes) -> None:
    killed = html_pdf.typesetter.pid()
    os.kill(killed, signal.SIGKILL)
    assert render_pdf(report) == pdf
    assert html_pdf.typesetter.pid() != killed
