"""The outcome forms: what each one asks, reading a submitted form, checking it before the legal record is sent, and the report delivery takes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.console.texts import FieldError
from shared.plumbing.clock import SHANGHAI

# The text fields of each outcome's form, in the order the form and the check page show them.
FIELDS: dict[str, tuple[str, ...]] = {
    "served": ("signer_name", "signer_role", "signer_relation", "at", "note"),
    "refused": ("witness_name", "witness_organisation", "note", "at"),
    "not_found": ("at", "note"),
    "moved": ("new_address_text", "new_address_postcode", "at", "note"),
    "posted": ("at", "note"),
}
# What a photo taken on each form shows (evidence's PhotoScene); forms without one take no photos.
SCENES: dict[str, str] = {"refused": "refusal", "posted": "posting"}
# The evidence each form takes: a signature or the signed 送达回证 for a service, photos for a refusal or a posting.
KINDS: dict[str, frozenset[str]] = {"served": frozenset({"signature", "signed_receipt"}), "refused": frozenset({"photo"}), "posted": frozenset({"photo"})}
# Delivery's limits (OutcomeIn): longer text is refused there, so the form says so first.
LONGEST: dict[str, int] = {"signer_name": 100, "signer_relation": 100, "witness_name": 100, "witness_organisation": 100, "new_address_text": 300, "note": 500}
MOST_EVIDENCE = 20
KEY = re.compile(r"^[0-9a-f]{32}$")
LOCAL_TIME = "%Y-%m-%dT%H:%M"


class EvidenceFields(BaseModel):
    """The fields beside an uploaded file: what it is, the key the browser sends it under, and where the phone was."""

    model_config = ConfigDict(extra="ignore")

    kind: Literal["photo", "signature", "signed_receipt"]
    key: str = Field(pattern=r"^[A-Za-z0-9-]{16,64}$")
    scene: Literal["refusal", "posting", "visit"] | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


def new_key() -> str:
    """Returns the idempotency key a form is rendered with: a retried submission carries it again and records nothing twice."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Item:
    """An item uploaded for the form, carried from page to page as `id kind flag,flag` in a hidden field."""

    id: str
    kind: str
    flags: tuple[str, ...] = ()

    def encode(self) -> str:
        """Returns the hidden field's value."""
        return f"{self.id} {self.kind} {','.join(self.flags)}".strip()

    @classmethod
    def decode(cls, text: str) -> Item | None:
        """Reads a hidden field's value; None for one that is not an item."""
        parts = text.split()
        flags = tuple(parts[2].split(",")) if len(parts) == 3 else ()
        if len(parts) not in (2, 3) or not re.fullmatch(r"[A-Za-z0-9._:-]{1,100}", parts[0]) or not all(re.fullmatch(r"[a-z_]{1,40}", word) for word in (parts[1], *flags)):
            return None
        return cls(id=parts[0], kind=parts[1], flags=flags)


@dataclass(frozen=True)
class OutcomeForm:
    """A submitted outcome form: its answers, the items uploaded for it, and the idempotency key it was rendered with."""

    outcome: str
    key: str
    values: dict[str, str] = field(default_factory=dict)
    evidence: tuple[Item, ...] = ()

    def value(self, name: str) -> str:
        """Returns an answer, empty when not given."""
        return self.values.get(name, "")

    def with_evidence(self, items: Sequence[Item]) -> OutcomeForm:
        """Returns the form with more items, each once."""
        known = {item.id for item in self.evidence}
        return replace(self, evidence=(*self.evidence, *(i for i in items if i.id not in known)))


def empty(outcome: str) -> OutcomeForm:
    """Returns a fresh form for an outcome, with a new idempotency key."""
    return OutcomeForm(outcome=outcome, key=new_key())


def read(outcome: str, form: Mapping[str, Sequence[str]]) -> OutcomeForm | None:
    """Reads a submitted form (each name to its values); None when its idempotency key is not one the console made."""
    key = (form.get("idempotency_key") or [""])[0]
    if not KEY.fullmatch(key):
        return None
    values = {name: " ".join(str((form.get(name) or [""])[0]).split()) if name != "note" else str((form.get(name) or [""])[0]).strip() for name in FIELDS[outcome]}
    items = [item for text in form.get("evidence", []) if (item := Item.decode(str(text))) is not None]
    return OutcomeForm(outcome=outcome, key=key, values={k: v for k, v in values.items() if v}).with_evidence(items)


def local_time(text: str) -> datetime | None:
    """Reads a datetime-local answer as Beijing time; None when it is not one."""
    try:
        return datetime.strptime(text, LOCAL_TIME).replace(tzinfo=SHANGHAI)
    except ValueError:
        return None


def check(form: OutcomeForm, *, signer_roles: Sequence[str] | None, now: datetime) -> list[FieldError]:
    """Returns what the form still lacks or gets wrong, field by field, before it may be checked and sent (delivery checks the law again).

    `signer_roles` are those who may sign for the recipient; None leaves the role to delivery, which checks it too.
    """
    errors: list[FieldError] = []
    v = form.value
    kinds = {item.kind for item in form.evidence}
    if form.outcome == "served":
        if not v("signer_name"):
            errors.append(FieldError("signer_name", "请填写签收人姓名"))
        if not v("signer_role") or (signer_roles is not None and v("signer_role") not in signer_roles):
            errors.append(FieldError("signer_role", "请选择签收人身份"))
        if not kinds & KINDS["served"]:
            errors.append(FieldError("evidence", "请让签收人签名，或上传签收后的送达回证照片（民事诉讼法第八十八条）"))
    elif form.outcome == "refused":
        if v("witness_name") and not v("witness_organisation"):
            errors.append(FieldError("witness_organisation", "请填写见证人所在单位或基层组织"))
        elif v("witness_organisation") and not v("witness_name"):
            errors.append(FieldError("witness_name", "请填写见证人姓名"))
        elif not v("witness_name") and "photo" not in kinds:
            errors.append(FieldError("witness_name", "请填写见证人的姓名和单位，或上传留置文书的现场照片（民事诉讼法第八十九条）"))
    elif form.outcome == "posted" and "photo" not in kinds:
        errors.append(FieldError("evidence", "请上传张贴现场的照片（民诉法解释第一百三十八条）"))
    elif form.outcome == "moved":
        if len(v("new_address_text")) < 4:
            errors.append(FieldError("new_address_text", "请填写受送达人的新地址"))
        if v("new_address_postcode") and not re.fullmatch(r"\d{6}", v("new_address_postcode")):
            errors.append(FieldError("new_address_postcode", "邮政编码为6位数字"))
    if v("at"):
        at = local_time(v("at"))
        if at is None:
            errors.append(FieldError("at", "请按“年-月-日 时:分”填写时间"))
        elif at > now:
            errors.append(FieldError("at", "时间不能晚于现在"))
    for name, longest in LONGEST.items():
        if len(v(name)) > longest:
            errors.append(FieldError(name, f"最多{longest}个字"))
    if len(form.evidence) > MOST_EVIDENCE:
        errors.append(FieldError("evidence", f"最多上传{MOST_EVIDENCE}个文件"))
    return errors


def report(form: OutcomeForm) -> dict[str, Any]:
    """Returns delivery's OutcomeIn for a checked form; the time is omitted when not given, so delivery records its own now."""
    v = form.value
    body: dict[str, Any] = {"outcome": form.outcome, "evidence_ids": [item.id for item in form.evidence]}
    if v("at") and (at := local_time(v("at"))) is not None:
        body["at"] = at.isoformat()
    if form.outcome == "served":
        body["signer"] = {"name": v("signer_name"), "role": v("signer_role"), "relation": v("signer_relation") or None}
    if form.outcome == "refused" and v("witness_name"):
        # CPL 89: the form's 拒收事由 is the reason the witness records.
        body["witness"] = {"name": v("witness_name"), "organisation": v("witness_organisation"), "refusal_reason": v("note") or None}
    if form.outcome == "moved":
        body["new_address"] = {"text": v("new_address_text"), "postcode": v("new_address_postcode") or None}
    if v("note"):
        body["note"] = v("note")
    return body
