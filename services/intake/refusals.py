"""Why a notice of a workbook was refused: each error of the request's validation or registration, in Chinese, at the cell it came from."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from services.intake.workbook import CellError, SheetNotice
from shared.plumbing.fields import field_path
from shared.plumbing.problems import Problem

# Pydantic's error types, in the words of the sheet.
_BY_TYPE: dict[str, str] = {
    "missing": "必填",
    "extra_forbidden": "模板中没有此项",
    "string_type": "应为文字",
    "bool_parsing": "应填“是”或“否”",
    "date_parsing": "日期格式应为 2026-12-31",
    "date_from_datetime_parsing": "日期格式应为 2026-12-31",
    "date_type": "日期格式应为 2026-12-31",
    "enum": "不是可选的值",
    "literal_error": "不是可选的值",
    "date_in_future": "日期不能晚于今天",
}
# Our validators' messages (English in the API), by what they say.
_BY_MESSAGE: tuple[tuple[str, str], ...] = (
    (r"case number must look like", "案号格式不正确，应如（2026）鲁1002民初1234号"),
    (r"case number year", "案号的年份有误"),
    (r"case number sequence", "案号的序号有误"),
    (r"type code says", "审理程序与案号的类型代字不符"),
    (r"is not a case of court .* carry (\S+)\)", "不是本院的案号（本院案号代字为 {0}）"),
    (r"is not a registered, active court", "该法院未在送达平台登记或已停用"),
    (r"is registered as (.+)$", "法院名称应为 {0}"),
    (r"phone extensions", "不支持分机号"),
    (r"not a phone number|not a valid number|not an E\.164 number", "不是有效的电话号码"),
    (r"not a valid email|email address", "不是有效的电子邮箱地址"),
    (r"resident ID number must be 18", "居民身份证号码应为 18 位"),
    (r"resident ID check digit", "居民身份证号码校验位不符，请核对"),
    (r"resident ID number has an unknown province", "居民身份证号码的地区码有误"),
    (r"resident ID number has an? (invalid )?birth date", "居民身份证号码的出生日期有误"),
    (r"resident ID number", "居民身份证号码有误"),
    (r"unified social credit code must be 18", "统一社会信用代码应为 18 位"),
    (r"unified social credit code", "统一社会信用代码有误，请核对"),
    (r"give id_type together with id_number", "填写证件号码时须同时填写证件类型"),
    (r"no document \S+ uploaded", "未找到该文件，请随表格一并上传"),
    (r"the file has (\d+) pages", "页数与文件不符（文件为 {0} 页）"),
)


def chinese(error: Mapping[str, Any]) -> str:
    """Returns the reason for one error ({type or code, msg or message, ctx}) in Chinese; one not known keeps its English words after a Chinese lead."""
    kind = str(error.get("type") or error.get("code") or "")
    english = str(error.get("msg") or error.get("message") or "").removeprefix("Value error, ")
    context = error.get("ctx") or {}
    if kind in ("string_too_short", "too_short"):
        least = context.get("min_length", 1)
        return "必填" if least <= 1 else f"至少 {least} 个字" if kind == "string_too_short" else f"至少 {least} 项"
    if kind in ("string_too_long", "too_long"):
        return f"不能超过 {context.get('max_length')} 个字" if kind == "string_too_long" else f"最多 {context.get('max_length')} 项"
    if kind == "string_pattern_mismatch":
        return "应为六位数字" if "\\d{6}" in str(context.get("pattern", "")) else "格式不正确"
    for pattern, words in _BY_MESSAGE:
        if found := re.search(pattern, english):
            return words.format(*found.groups())
    if kind in _BY_TYPE:
        return _BY_TYPE[kind]
    return f"填写有误（{english}）" if english else "填写有误"


def of_validation(notice: SheetNotice, errors: Sequence[Mapping[str, Any]]) -> list[CellError]:
    """Places pydantic's errors of the notice's request at their cells, leaving out cells already refused when the sheet was read."""
    return _placed(notice, [(field_path(e.get("loc", ())), chinese(e)) for e in errors])


def of_problem(notice: SheetNotice, problem: Problem) -> list[CellError]:
    """Places a refusal of registration at its cells: its named fields, or the notice's 法院编号 for the notice as a whole."""
    if problem.errors:
        return _placed(notice, [(str(e.get("field", "")), chinese(e)) for e in problem.errors])
    if problem.status == 409:
        return [CellError(notice.sheet, notice.row, "法院编号", "court_reference", "该法院编号已用于另一份内容不同的送达通知")]
    if problem.status == 403:
        return [CellError(notice.sheet, notice.row, "法院编号", "court_id", "该法院未在送达平台登记或已停用，不能提交送达通知")]
    return [CellError(notice.sheet, notice.row, "法院编号", "", f"未能登记（{problem.detail}）")]


def _placed(notice: SheetNotice, found: Sequence[tuple[str, str]]) -> list[CellError]:
    # One reason per cell: a cell refused when the sheet was read (a file not uploaded) is not refused again for what followed from it.
    refused = {(e.sheet, e.row, e.column) for e in notice.errors}
    placed: list[CellError] = []
    for path, message in found:
        cell = notice.cell_of(path)
        error = CellError(cell.sheet, cell.row, cell.column, path, message)
        if (cell.sheet, cell.row, cell.column) not in refused and error not in placed:
            placed.append(error)
    return placed
