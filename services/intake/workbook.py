"""A court's Excel workbook of notices: its sheets and Chinese columns, the template, and reading it into notice requests cell by cell."""

from __future__ import annotations

import dataclasses
import functools
import io
import re
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PureWindowsPath
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from shared.contracts import labels
from shared.contracts.events import IdType

TASKS = "送达任务"
DOCUMENTS = "文书"
GUIDE = "说明"
# How many rows of the template carry the drop-down lists and the text format.
TEMPLATE_ROWS = 2000
# A workbook is a zip of XML; what it unpacks to is bounded, so a small upload cannot expand into gigabytes (a zip bomb).
MAX_UNPACKED_BYTES = 256 * 2**20

STAGES: dict[str, str] = {label: stage.value for stage, label in labels.STAGE.items()}
KINDS: dict[str, str] = {label: kind.value for kind, label in labels.PARTY_KIND.items()}
ID_TYPES: dict[str, str] = {"居民身份证": IdType.resident_id.value, "统一社会信用代码": IdType.uscc.value, "护照": IdType.passport.value, "其他": IdType.other.value}
ROLES: dict[str, str] = {label: role for role, label in labels.PARTY_ROLE.items()} | {label: role for role, label in labels.ENFORCEMENT_ROLE.items()}
DOCUMENT_KINDS: dict[str, str] = {label: kind for kind, label in labels.DOCUMENT_KIND.items()}
YES_NO: dict[str, bool] = {"是": True, "否": False}


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its Chinese header, the request field it fills, what the 说明 sheet says, and its allowed values (label → value)."""

    header: str
    field: str
    meaning: str
    required: bool = False
    choices: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    # Choices a court may also write in its own words (a party's role): a value not listed is kept as written.
    open_choices: bool = False


# 送达任务: one row per recipient; rows with the same 法院编号 are one notice, whose case columns the first row gives.
TASK_COLUMNS: tuple[Column, ...] = (
    Column("法院编号", "court_reference", "本院对该送达通知的编号，同一通知的各受送达人填写相同编号；已提交过的编号不会重复登记", required=True),
    Column("案号", "case_number", "如（2026）鲁1002民初1234号，须为本院案号；半角括号亦可", required=True),
    Column("案由", "cause", "如民间借贷纠纷", required=True),
    Column("审理程序", "stage", "须与案号的类型代字一致（民初为一审，民终为二审）", required=True, choices=STAGES),
    Column("截止日期", "due_date", "法院要求完成送达的日期，如 2026-12-31；不填则为受理后第三个工作日"),
    Column("受送达人", "name", "受送达人姓名或名称", required=True),
    Column("类型", "kind", "受送达人是自然人还是法人或其他组织", required=True, choices=KINDS),
    Column("诉讼地位", "role", "如原告、被告、第三人；其他称谓照写", required=True, choices=ROLES, open_choices=True),
    Column("证件类型", "id_type", "填写证件号码时必填", choices=ID_TYPES),
    Column("证件号码", "id_number", "居民身份证号码或统一社会信用代码等，请以文本格式填写（以数字保存的长号码会丢失末几位）"),
    Column("手机", "phones", "手机或固定电话，多个号码用分号隔开"),
    Column("邮箱", "emails", "电子邮箱，多个用分号隔开"),
    Column("地址", "addresses", "送达地址（诉状所载地址），写明省市区"),
    Column("邮编", "postcode", "六位邮政编码"),
    Column("下落不明", "whereabouts_unknown", "受送达人下落不明的填“是”，否则填“否”或不填", choices=YES_NO),
)
NOTICE_FIELDS = ("court_reference", "case_number", "cause", "stage", "due_date")

# 文书: one row per document of a notice; 文件名 names a file uploaded together with the workbook.
DOCUMENT_COLUMNS: tuple[Column, ...] = (
    Column("法院编号", "court_reference", "所属送达通知的法院编号，与“送达任务”表一致", required=True),
    Column("文书名称", "title", "如起诉状副本、传票", required=True),
    Column("文书种类", "kind", "文书的种类", required=True, choices=DOCUMENT_KINDS),
    Column("文件名", "file", "随表格一并上传的 PDF 或 OFD 文件的文件名，如 传票-1234.pdf", required=True),
)
SHEETS: dict[str, tuple[Column, ...]] = {TASKS: TASK_COLUMNS, DOCUMENTS: DOCUMENT_COLUMNS}

EXAMPLE_TASK: dict[str, Any] = {
    "法院编号": "HC-2026-000001",
    "案号": "（2026）鲁1002民初1234号",
    "案由": "民间借贷纠纷",
    "审理程序": "一审",
    "截止日期": None,
    "受送达人": "张三",
    "类型": "自然人",
    "诉讼地位": "被告",
    "证件类型": "居民身份证",
    "证件号码": "371002198503124210",
    "手机": "13800138000",
    "邮箱": "zhangsan@example.com",
    "地址": "山东省威海市环翠区新威路17号",
    "邮编": "264200",
    "下落不明": "否",
}
EXAMPLE_DOCUMENT: dict[str, Any] = {"法院编号": "HC-2026-000001", "文书名称": "起诉状副本", "文书种类": "起诉状副本", "文件名": "起诉状副本-1234.pdf"}


class NotAWorkbook(ValueError):
    """The bytes are not an Excel workbook (.xlsx)."""


class WrongShape(ValueError):
    """The workbook lacks a sheet or a column, or has a column this template does not know."""

    def __init__(self, sheet: str, column: str, message: str) -> None:
        super().__init__(message)
        self.sheet = sheet
        self.column = column
        self.message = message


class TooManyRows(ValueError):
    """The workbook has more rows than one batch takes, or unpacks to more than a workbook of them could."""


@dataclass(frozen=True)
class Cell:
    """Where a value sits: the sheet, the Excel row number and the column's header."""

    sheet: str
    row: int
    column: str


@dataclass(frozen=True)
class CellError:
    """A value refused, where it sits and the request field it fills, with the reason in Chinese."""

    sheet: str
    row: int
    column: str
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        """Returns the error as the batch's rows carry it."""
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "field": self.field, "message": self.message}


@dataclass
class SheetNotice:
    """One notice read from the workbook: the request it makes (without court and files), where each of its fields sits, its documents' file names and the cells already refused."""

    court_reference: str
    sheet: str
    row: int
    payload: dict[str, Any] = field(default_factory=dict)
    cells: dict[str, Cell] = field(default_factory=dict)
    files: list[str | None] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)

    def cell_of(self, path: str) -> Cell:
        """Returns the cell a request field path names (recipients[1].phones[0] → 手机 of that recipient's row), or the notice's first row."""
        return cell_at(self.cells, path) or Cell(self.sheet, self.row, "")


def cell_at(cells: Mapping[str, Cell], path: str) -> Cell | None:
    """Returns the cell of a field path or of the nearest field containing it."""
    while path:
        if path in cells:
            return cells[path]
        trimmed = _LAST_PART.sub("", path)
        path = trimmed if trimmed != path else ""
    return None


# The last step of a field path: `.phones` or `[0]`.
_LAST_PART = re.compile(r"(\.[^.\[\]]+|\[\d+\])$")


def file_name(raw: str) -> str:
    """Returns a file's name as uploads and 文件名 cells are matched: without any folder, in Unicode NFC (macOS sends names decomposed)."""
    return unicodedata.normalize("NFC", PureWindowsPath(raw).name.strip())


# --- Reading --------------------------------------------------------------------------------------


def read(data: bytes, *, max_rows: int) -> list[SheetNotice]:
    """Reads a workbook into its notices in the order of their first rows; raises NotAWorkbook, WrongShape or TooManyRows for the workbook as a whole."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise NotAWorkbook(f"not an Excel workbook (.xlsx): {type(exc).__name__}") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise TooManyRows(f"工作簿解压后超过 {MAX_UNPACKED_BYTES // 2**20} MB，请分成几个工作簿上传")
    try:
        # openpyxl parses with defusedxml when it is installed (a dependency), so entity expansion is refused too.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise NotAWorkbook(f"not an Excel workbook (.xlsx): {type(exc).__name__}") from None
    try:
        tasks = _rows(book, TASKS, max_rows=max_rows)
        documents = _rows(book, DOCUMENTS, max_rows=max_rows)
    finally:
        book.close()
    notices: dict[str, SheetNotice] = {}
    for number, values in tasks:
        _add_recipient(notices, number, values)
    for number, values in documents:
        _add_document(notices, number, values)
    for notice in notices.values():
        if not notice.court_reference:
            continue
        if not notice.payload.get("recipients"):
            notice.errors.append(CellError(notice.sheet, notice.row, "法院编号", "recipients", f"“{TASKS}”表中没有法院编号为 {notice.court_reference} 的受送达人"))
        if not notice.files and notice.payload.get("recipients"):
            notice.errors.append(CellError(notice.sheet, notice.row, "法院编号", "documents", f"“{DOCUMENTS}”表中没有法院编号为 {notice.court_reference} 的文书"))
    return list(notices.values())


def _rows(book: Any, sheet: str, *, max_rows: int) -> list[tuple[int, dict[str, Any]]]:
    """Returns a sheet's non-empty rows after the header as (Excel row number, {header: value}), the header checked against the template."""
    if sheet not in book.sheetnames:
        raise WrongShape(sheet, "", f"工作簿缺少“{sheet}”工作表，请使用下载的模板")
    columns = SHEETS[sheet]
    rows = book[sheet].iter_rows(values_only=True)
    header = [_text(v) for v in next(rows, ())]
    known = {c.header for c in columns}
    for name in header:
        if name is not None and name not in known:
            raise WrongShape(sheet, name, f"“{sheet}”工作表有模板中没有的列“{name}”，请使用下载的模板")
    for column in columns:
        if column.header not in header:
            raise WrongShape(sheet, column.header, f"“{sheet}”工作表缺少“{column.header}”列，请使用下载的模板")
    found = []
    for number, values in enumerate(rows, start=2):
        row = {name: value for name, value in zip(header, values, strict=False) if name is not None}
        if all(_text(v) is None for v in row.values()):
            continue
        found.append((number, row))
        if len(found) > max_rows:
            raise TooManyRows(f"“{sheet}”工作表超过 {max_rows} 行，请分成几个工作簿上传")
    return found


def _notice(notices: dict[str, SheetNotice], sheet: str, number: int, values: Mapping[str, Any]) -> SheetNotice | None:
    """Returns the notice a row's 法院编号 names; a row without one is a notice of its own, refused for it, and None."""
    reference = _text(values.get("法院编号"))
    key = reference if reference is not None else f"\x00{sheet}:{number}"
    if key not in notices:
        notices[key] = SheetNotice(court_reference=reference or "", sheet=sheet, row=number)
    if reference is None:
        notices[key].errors.append(CellError(sheet, number, "法院编号", "court_reference", "必填"))
        return None
    return notices[key]


def _add_recipient(notices: dict[str, SheetNotice], number: int, values: Mapping[str, Any]) -> None:
    notice = _notice(notices, TASKS, number, values)
    if notice is None:
        return
    first = not notice.cells
    index = len(notice.payload.setdefault("recipients", []))
    recipient: dict[str, Any] = {}
    prefix = f"recipients[{index}]"
    notice.cells[prefix] = Cell(TASKS, number, "受送达人")
    for column in TASK_COLUMNS:
        raw = values.get(column.header)
        if column.field in NOTICE_FIELDS:
            _notice_value(notice, column, raw, number=number, first=first)
            continue
        path = f"{prefix}.{column.field}" if column.field != "postcode" else f"{prefix}.addresses[0].postcode"
        notice.cells[path] = Cell(TASKS, number, column.header)
        try:
            value = _convert(column, raw)
        except ValueError as exc:
            notice.errors.append(CellError(TASKS, number, column.header, path, str(exc)))
            continue
        if value is None:
            continue
        if column.field == "addresses":
            recipient.setdefault("addresses", [{}])[0]["text"] = value
            notice.cells[f"{prefix}.addresses[0].text"] = Cell(TASKS, number, column.header)
        elif column.field == "postcode":
            recipient.setdefault("addresses", [{}])[0]["postcode"] = value
        else:
            recipient[column.field] = value
    if "addresses" in recipient and "text" not in recipient["addresses"][0]:
        notice.errors.append(CellError(TASKS, number, "地址", f"{prefix}.addresses[0].text", "填写邮编时须同时填写地址"))
        del recipient["addresses"]
    notice.payload["recipients"].append(recipient)


def _notice_value(notice: SheetNotice, column: Column, raw: Any, *, number: int, first: bool) -> None:
    """Takes a case column from the notice's first row; a later row may repeat it but not contradict it."""
    try:
        value = _convert(column, raw)
    except ValueError as exc:
        notice.errors.append(CellError(TASKS, number, column.header, column.field, str(exc)))
        return
    if first:
        notice.cells[column.field] = Cell(TASKS, number, column.header)
        if value is not None:
            notice.payload[column.field] = value
    elif value is not None and value != notice.payload.get(column.field):
        notice.errors.append(CellError(TASKS, number, column.header, column.field, f"与同一法院编号的第 {notice.row} 行不一致"))


def _add_document(notices: dict[str, SheetNotice], number: int, values: Mapping[str, Any]) -> None:
    notice = _notice(notices, DOCUMENTS, number, values)
    if notice is None:
        return
    index = len(notice.files)
    prefix = f"documents[{index}]"
    notice.cells[prefix] = Cell(DOCUMENTS, number, "文书名称")
    document: dict[str, Any] = {}
    for column in DOCUMENT_COLUMNS[1:]:
        path = f"{prefix}.{column.field}"
        notice.cells[path] = Cell(DOCUMENTS, number, column.header)
        try:
            value = _convert(column, values.get(column.header))
        except ValueError as exc:
            notice.errors.append(CellError(DOCUMENTS, number, column.header, path, str(exc)))
            continue
        if value is not None:
            document[column.field] = value
    for path in (f"{prefix}.sha256", f"{prefix}.pages"):
        notice.cells[path] = Cell(DOCUMENTS, number, "文件名")
    named = document.pop("file", None)
    notice.files.append(file_name(named) if named is not None else None)
    notice.payload.setdefault("documents", []).append(document)
    if notice.files[-1] is None and not any(e.field == f"{prefix}.file" for e in notice.errors):
        notice.errors.append(CellError(DOCUMENTS, number, "文件名", f"{prefix}.file", "必填"))


def _convert(column: Column, raw: Any) -> Any:
    """Turns a cell into the request's value; raises ValueError with the reason in Chinese."""
    if column.field == "id_number" and isinstance(raw, int | float) and not isinstance(raw, bool):
        if len(str(int(raw))) >= 16:
            raise ValueError("证件号码以数字格式保存，末几位已丢失；请将该列设为文本格式后重新填写")
    if column.field == "due_date":
        return _date(raw)
    if column.field == "postcode" and isinstance(raw, int | float) and not isinstance(raw, bool):
        return f"{int(raw):06d}"
    text = _text(raw)
    if text is None:
        return None
    if column.field in ("phones", "emails"):
        return [part for part in re.split(r"[;；,，、\s]+", text) if part]
    if column.choices:
        if text in column.choices:
            return column.choices[text]
        if text in {v for v in column.choices.values() if isinstance(v, str)}:
            return text
        if column.open_choices:
            return text
        raise ValueError(f"须为以下之一：{'、'.join(column.choices)}")
    return text


def _date(raw: Any) -> str | None:
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    text = _text(raw)
    if text is None:
        return None
    found = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    try:
        if found is None:
            raise ValueError(text)
        return date(int(found[1]), int(found[2]), int(found[3])).isoformat()
    except ValueError:
        raise ValueError("日期格式应为 2026-12-31") from None


def _text(raw: Any) -> str | None:
    """Returns a cell as trimmed text: whole numbers without a decimal point, dates as YYYY-MM-DD; an empty cell is None."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, datetime):
        raw = raw.date()
    text = (raw.isoformat() if isinstance(raw, date) else str(raw)).replace("\x00", "").strip()
    return text or None


# --- The template ---------------------------------------------------------------------------------


@functools.cache
def template() -> bytes:
    """Returns the workbook courts fill in: the two sheets with their headers, lists of allowed values and one example notice, and the 说明 sheet."""
    book = Workbook()
    tasks = book.active
    tasks.title = TASKS
    _sheet(tasks, TASK_COLUMNS, EXAMPLE_TASK)
    _sheet(book.create_sheet(DOCUMENTS), DOCUMENT_COLUMNS, EXAMPLE_DOCUMENT)
    _guide(book.create_sheet(GUIDE))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_HEADER_FONT = Font(bold=True)
_REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")


def _sheet(sheet: Any, columns: Sequence[Column], example: Mapping[str, Any]) -> None:
    sheet.freeze_panes = "A2"
    for number, column in enumerate(columns, start=1):
        letter = get_column_letter(number)
        head = sheet.cell(row=1, column=number, value=column.header)
        head.font = _HEADER_FONT
        if column.required:
            head.fill = _REQUIRED_FILL
        sheet.column_dimensions[letter].width = max(12, min(40, 2 * len(str(example.get(column.header) or column.header)) + 4))
        value = sheet.cell(row=2, column=number, value=example.get(column.header))
        # Long numbers (ID numbers, phones, postcodes) stay text, so Excel does not round them.
        value.number_format = "@"
        if column.choices:
            check = DataValidation(type="list", formula1='"' + ",".join(column.choices) + '"', allow_blank=True, showErrorMessage=not column.open_choices)
            check.error = f"须为以下之一：{'、'.join(column.choices)}"
            check.prompt = column.meaning
            check.add(f"{letter}2:{letter}{TEMPLATE_ROWS}")
            sheet.add_data_validation(check)
        elif column.field in ("id_number", "phones", "postcode", "court_reference"):
            for row in range(3, TEMPLATE_ROWS + 1):
                sheet.cell(row=row, column=number).number_format = "@"


def _guide(sheet: Any) -> None:
    rows = [
        ("工作表", "列", "是否必填", "说明", "可选值"),
        *((name, c.header, "必填" if c.required else "", c.meaning, "、".join(c.choices)) for name, columns in SHEETS.items() for c in columns),
    ]
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = _HEADER_FONT
    for letter, width in zip("ABCDE", (10, 12, 10, 70, 50), strict=True):
        sheet.column_dimensions[letter].width = width
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.append(())
    sheet.append(("", "", "", f"“{TASKS}”表每行一名受送达人，法院编号相同的行为同一份送达通知，其案号、案由、审理程序、截止日期以第一行为准。"))
    sheet.append(("", "", "", f"“{DOCUMENTS}”表每行一份文书，文件名须与随表上传的文件一致；同一文件可用于多份通知。第 2 行为示例，请删除或改写后再上传。"))
