"""The submit form's answers: read from the posted form (documents and recipients by their index), the body intake takes, and where intake's problems show."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData, UploadFile

from services.console.texts import FieldError

# The most rows the form takes: intake's own limits.
MOST_DOCUMENTS = 100
MOST_RECIPIENTS = 50
NOTICE_FIELDS: dict[str, int] = {"court_id": 16, "court_reference": 100, "case_number": 60, "cause": 100, "stage": 20, "due_date": 10}
DOCUMENT_FIELDS: dict[str, int] = {"title": 200, "kind": 64, "sha256": 64, "filename": 200, "pages": 6, "content_type": 40}
RECIPIENT_FIELDS: dict[str, int] = {
    "name": 200,
    "kind": 20,
    "role": 64,
    "id_type": 20,
    "id_number": 64,
    "phones": 300,
    "emails": 600,
    "address": 300,
    "postcode": 10,
    "whereabouts_unknown": 3,
}
# What a person typed in a row that says nothing yet: a row of only these is left out.
DEFAULTS = frozenset({"kind", "id_type"})
ROW = re.compile(r"^(documents|recipients)\[(\d{1,3})\]\.(\w+)$")
SEPARATORS = re.compile(r"[,，、;；\s]+")
SHA256 = re.compile(r"^[0-9a-f]{64}$")

# The inputs' labels, as the messages beside them and in the summary name them.
NOTICE_LABELS: dict[str, str] = {
    "court_id": "法院",
    "court_reference": "法院内部编号",
    "case_number": "案号",
    "cause": "案由",
    "stage": "审级",
    "due_date": "应完成日期",
}
DOCUMENT_LABELS: dict[str, str] = {"title": "文书名称", "kind": "文书种类", "file": "文件"}
RECIPIENT_LABELS: dict[str, str] = {
    "name": "姓名或名称",
    "kind": "类别",
    "role": "诉讼地位",
    "id_type": "证件类型",
    "id_number": "证件号码",
    "phones": "电话",
    "emails": "电子邮箱",
    "address": "送达地址",
    "postcode": "邮政编码",
    "whereabouts_unknown": "下落不明",
}
# A document's file answers for what intake says of its stored copy.
FILE_PARTS = frozenset({"sha256", "pages", "content_type", "size"})


def _tidy(value: object, longest: int) -> str:
    return " ".join(value.split())[:longest] if isinstance(value, str) else ""


@dataclass
class NoticeForm:
    """A notice as the form holds it: its fields, its documents (each with the file intake stored, once uploaded) and its recipients, by row."""

    values: dict[str, str] = field(default_factory=dict)
    documents: list[dict[str, str]] = field(default_factory=lambda: [{}])
    recipients: list[dict[str, str]] = field(default_factory=lambda: [{}])

    def value(self, name: str) -> str:
        """Returns a field's answer, empty when not given."""
        return self.values.get(name, "")

    def sent_documents(self) -> list[int]:
        """Returns the rows of the documents sent (a row left empty is not)."""
        return [i for i, row in enumerate(self.documents) if any(v for k, v in row.items() if k not in DEFAULTS)]

    def sent_recipients(self) -> list[int]:
        """Returns the rows of the recipients sent (a row left empty is not)."""
        return [i for i, row in enumerate(self.recipients) if any(v for k, v in row.items() if k not in DEFAULTS)]

    def errors(self) -> list[FieldError]:
        """Returns what the console can tell before intake is asked: a document without its file, no document or no recipient at all."""
        errors = [FieldError(f"documents[{i}].file", f"第{i + 1}份文书：请选择文件（PDF 或 OFD）") for i in self.sent_documents() if not self.documents[i].get("sha256")]
        if not self.sent_documents():
            errors.append(FieldError("documents[0].file", "请至少添加一份文书并选择文件"))
        if not self.sent_recipients():
            errors.append(FieldError("recipients[0].name", "请至少填写一位受送达人"))
        return errors

    def body(self) -> dict[str, Any]:
        """Returns the notice as intake takes it; an answer left empty is not sent, so that intake names it as required."""
        body: dict[str, Any] = {name: value for name, value in self.values.items() if value}
        body["documents"] = [_document(self.documents[i]) for i in self.sent_documents()]
        body["recipients"] = [_recipient(self.recipients[i]) for i in self.sent_recipients()]
        return body

    def place(self, path: str) -> tuple[str, str]:
        """Returns the input a path of intake's problem names (`recipients[0].phones[1]`) and its label; ("", label) for one the form has no input for."""
        found = re.match(r"^(documents|recipients)\[(\d+)\](?:\.(\w+))?(.*)$", path)
        if found is None:
            name = "court_id" if path == "court_name" else path
            label = {"documents": "文书", "recipients": "受送达人"}.get(path) or NOTICE_LABELS.get(name, path)
            return (name if name in NOTICE_LABELS else ""), label
        table, index, part, rest = found.group(1), int(found.group(2)), found.group(3) or "", found.group(4)
        rows = self.sent_documents() if table == "documents" else self.sent_recipients()
        row = rows[index] if index < len(rows) else index
        if table == "documents":
            name = "file" if part in FILE_PARTS or part == "" else part
            known = DOCUMENT_LABELS.get(name)
            return (f"documents[{row}].{name}" if known else ""), f"第{row + 1}份文书的{known or part}"
        name = ("postcode" if rest.endswith(".postcode") else "address") if part == "addresses" else part
        known = RECIPIENT_LABELS.get(name)
        return (f"recipients[{row}].{name}" if known else ""), f"第{row + 1}位受送达人的{known or part or '信息'}"


def _document(row: Mapping[str, str]) -> dict[str, Any]:
    document: dict[str, Any] = {name: row[name] for name in ("title", "kind", "sha256") if row.get(name)}
    if row.get("pages", "").isdigit():
        document["pages"] = int(row["pages"])
    return document


def _recipient(row: Mapping[str, str]) -> dict[str, Any]:
    recipient: dict[str, Any] = {name: row[name] for name in ("name", "kind", "role", "id_type", "id_number") if row.get(name)}
    recipient["phones"] = [p for p in SEPARATORS.split(row.get("phones", "")) if p]
    recipient["emails"] = [e for e in SEPARATORS.split(row.get("emails", "")) if e]
    if row.get("address") or row.get("postcode"):
        recipient["addresses"] = [{"text": row.get("address", "")} | ({"postcode": row["postcode"]} if row.get("postcode") else {})]
    recipient["whereabouts_unknown"] = row.get("whereabouts_unknown") == "yes"
    return recipient


def read(form: FormData) -> tuple[NoticeForm, dict[str, UploadFile]]:
    """Reads the posted form: its fields tidied and cut to their limits, its rows by index, and the files chosen by their input's name."""
    values = {name: _tidy(form.get(name), longest) for name, longest in NOTICE_FIELDS.items()}
    documents: dict[int, dict[str, str]] = {}
    recipients: dict[int, dict[str, str]] = {}
    files: dict[str, UploadFile] = {}
    for key, value in form.multi_items():
        found = ROW.match(key)
        if found is None:
            continue
        table, index, name = found.group(1), int(found.group(2)), found.group(3)
        if table == "documents" and index < MOST_DOCUMENTS:
            if name == "file" and isinstance(value, UploadFile) and value.filename:
                files[key] = value
                documents.setdefault(index, {})
            elif name in DOCUMENT_FIELDS:
                documents.setdefault(index, {})[name] = _tidy(value, DOCUMENT_FIELDS[name])
        elif table == "recipients" and index < MOST_RECIPIENTS and name in RECIPIENT_FIELDS:
            recipients.setdefault(index, {})[name] = _tidy(value, RECIPIENT_FIELDS[name])
    for row in documents.values():
        # What the form carried of an earlier upload is kept only if it can be a stored file's; intake checks the rest.
        if not SHA256.match(row.get("sha256", "")):
            for name in ("sha256", "filename", "pages", "content_type"):
                row.pop(name, None)
    return NoticeForm(
        values={name: value for name, value in values.items() if value},
        documents=[documents.get(i, {}) for i in range(max(documents, default=0) + 1)],
        recipients=[recipients.get(i, {}) for i in range(max(recipients, default=0) + 1)],
    ), files
