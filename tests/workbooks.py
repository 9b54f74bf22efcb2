"""Workbooks of notices as a court fills them in, for the batch tests: rows by header, written with openpyxl like Excel would save them."""

from __future__ import annotations

import io
import random
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook

from services.intake.workbook import DOCUMENT_COLUMNS, DOCUMENTS, TASK_COLUMNS, TASKS
from tests.support import resident_id

FILE = "传票.pdf"


def workbook(tasks: Sequence[Mapping[str, Any]], documents: Sequence[Mapping[str, Any]], *, task_headers: Sequence[str] | None = None) -> bytes:
    """Returns an .xlsx with the two sheets holding the rows given ({header: value}), under the template's headers unless others are given."""
    book = Workbook()
    sheet = book.active
    sheet.title = TASKS
    headers = list(task_headers or [c.header for c in TASK_COLUMNS])
    sheet.append(headers)
    for row in tasks:
        sheet.append([row.get(h) for h in headers])
    documents_sheet = book.create_sheet(DOCUMENTS)
    document_headers = [c.header for c in DOCUMENT_COLUMNS]
    documents_sheet.append(document_headers)
    for row in documents:
        documents_sheet.append([row.get(h) for h in document_headers])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def task_row(index: int, *, reference: str | None = None, seed: int = 0, **changes: Any) -> dict[str, Any]:
    """Returns one recipient's row of notice `index` in a first-instance case of court C371002 (鲁1002)."""
    rng = random.Random(seed * 100_003 + index)
    row: dict[str, Any] = {
        "法院编号": reference or f"WB-{seed}-{index:05d}",
        "案号": f"（2026）鲁1002民初{10_000 + index}号",
        "案由": "民间借贷纠纷",
        "审理程序": "一审",
        "受送达人": f"当事人{index}",
        "类型": "自然人",
        "诉讼地位": "被告",
        "证件类型": "居民身份证",
        "证件号码": resident_id(rng),
        "手机": f"139{rng.randrange(10**8):08d}",
        "地址": f"山东省威海市环翠区新威路{index % 200 + 1}号",
        "邮编": "264200",
        "下落不明": "否",
    }
    row.update(changes)
    return row


def document_row(reference: str, *, title: str = "传票", kind: str = "传票", file: str = FILE) -> dict[str, Any]:
    """Returns one document's row of the notice with the reference."""
    return {"法院编号": reference, "文书名称": title, "文书种类": kind, "文件名": file}


def notices(count: int, *, seed: int = 0, changes: Mapping[int, Mapping[str, Any]] | None = None) -> bytes:
    """Returns a workbook of `count` notices with one recipient and one document each; `changes` alters the rows of some notices."""
    tasks = [task_row(i, seed=seed, **dict((changes or {}).get(i, {}))) for i in range(count)]
    return workbook(tasks, [document_row(t["法院编号"]) for t in tasks])
