"""The supervisors' firm registry through intake and evidence, as the signed-in person: the list, and adding or changing a firm with its signed agreement filed as evidence."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

from starlette.datastructures import FormData

from services.console import posted
from services.console.adapters.calls import ServiceRefused
from services.console.adapters.firms import Firm
from services.console.adapters.intake import Court
from services.console.deps import ConsoleDeps
from services.console.errors import PageError
from services.console.sessions import Visitor
from services.console.texts import FieldError, field_errors
from shared.contracts.evidence import EvidenceKind
from shared.contracts.values import validate_uscc
from shared.plumbing.clock import local_date

# Intake's fields of a firm, and the form's inputs they are shown beside (with their labels).
FIRM_FIELDS = {
    "uscc": ("uscc", "统一社会信用代码"),
    "name": ("name", "律所名称"),
    "email": ("email", "电子送达邮箱"),
    "court_ids": ("court_ids", "协议覆盖的法院"),
    "valid_from": ("valid_from", "有效期起"),
    "valid_to": ("valid_to", "有效期至"),
    "agreement": ("agreement", "电子送达协议"),
}
NO_SUCH_FIRM = PageError(404, "找不到律所", "登记簿中没有此律所。请返回律所登记查看。")
AGREEMENT_TYPES = "协议文件应为 PDF，或 JPEG、PNG 格式的扫描件"


@dataclass(frozen=True)
class FirmRow:
    """A firm as the list shows it: the entry, whether it is in force today, and its courts by name."""

    firm: Firm
    state: str
    courts: list[str]


@dataclass
class FirmForm:
    """The firm form's answers as typed, so a refused form comes back as it was filled in."""

    uscc: str = ""
    name: str = ""
    email: str = ""
    inbox: bool = True
    court_ids: list[str] = field(default_factory=list)
    valid_from: str = ""
    valid_to: str = ""
    # A firm being changed: its USCC is fixed, and its agreement stays unless a new one is uploaded.
    editing: bool = False

    @classmethod
    def read(cls, form: FormData, *, uscc: str | None) -> FirmForm:
        """Reads the posted answers; a changed firm keeps the USCC of its address."""
        return cls(
            uscc=uscc or posted.answer(form, "uscc", longest=32).upper(),
            name=posted.answer(form, "name", longest=200),
            email=posted.answer(form, "email", longest=200),
            inbox=form.get("inbox") == "yes",
            court_ids=[value for value in form.getlist("court_ids") if isinstance(value, str)][:200],
            valid_from=posted.answer(form, "valid_from", longest=10),
            valid_to=posted.answer(form, "valid_to", longest=10),
            editing=uscc is not None,
        )

    @classmethod
    def of(cls, firm: Firm) -> FirmForm:
        """Returns the form filled in with a registered firm."""
        return cls(
            uscc=firm.uscc,
            name=firm.name,
            email=firm.email,
            inbox=firm.inbox,
            court_ids=list(firm.court_ids),
            valid_from=firm.valid_from.isoformat(),
            valid_to=firm.valid_to.isoformat(),
            editing=True,
        )


@dataclass(frozen=True)
class Agreement:
    """The signed agreement as the person uploaded it."""

    filename: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class FirmRefused:
    """A firm's form refused, by the console or by a service, with what is wrong beside its fields."""

    form: FirmForm
    errors: list[FieldError]
    status: int = 422


async def listing(deps: ConsoleDeps, *, visitor: Visitor) -> list[FirmRow]:
    """Returns the registered firms by name, each with whether its agreement is in force today and its courts by name."""
    names = {court.id: court.name for court in await deps.intake.courts(visitor.principal)}
    today = local_date(deps.clock.now())
    return [FirmRow(firm=f, state=f.state_on(today), courts=[names.get(c, c) for c in f.court_ids]) for f in await deps.firms.firms(visitor.principal)]


async def firm(deps: ConsoleDeps, *, visitor: Visitor, uscc: str) -> Firm:
    """Returns a registered firm, or the page saying there is none."""
    try:
        return await deps.firms.firm(visitor.principal, uscc)
    except ServiceRefused as refused:
        if refused.status == 404:
            raise NO_SUCH_FIRM from None
        raise


async def courts(deps: ConsoleDeps, *, visitor: Visitor) -> list[Court]:
    """Returns the courts a firm's agreement may cover."""
    return [court for court in await deps.intake.courts(visitor.principal) if court.active]


def checked(form: FirmForm, *, agreement: Agreement | None, court_ids: set[str]) -> list[FieldError]:
    """Returns what is missing or wrong in the form, in Chinese, before anything is filed or written."""
    errors: list[FieldError] = []
    try:
        validate_uscc(form.uscc)
    except ValueError:
        errors.append(FieldError("uscc", "请填写 18 位统一社会信用代码，并核对最后一位校验码" if form.uscc else "请填写律所的统一社会信用代码"))
    if len(form.name) < 2:
        errors.append(FieldError("name", "请填写律所名称"))
    if "@" not in form.email:
        errors.append(FieldError("email", "请填写律所的电子送达邮箱，例如 songda@lawfirm.cn"))
    if any(c not in court_ids for c in form.court_ids):
        errors.append(FieldError("court_ids", "请从列表中选择协议覆盖的法院"))
    days = {}
    for name, words in (("valid_from", "有效期起"), ("valid_to", "有效期至")):
        try:
            days[name] = date.fromisoformat(form.valid_from if name == "valid_from" else form.valid_to)
        except ValueError:
            errors.append(FieldError(name, f"请填写{words}日期，格式如 2026-01-01"))
    if len(days) == 2 and days["valid_to"] < days["valid_from"]:
        errors.append(FieldError("valid_to", "有效期至不能早于有效期起"))
    if agreement is None and not form.editing:
        errors.append(FieldError("agreement", "请上传签署的电子送达协议（PDF 或扫描件）"))
    return errors


async def save(deps: ConsoleDeps, *, visitor: Visitor, form: FirmForm, agreement: Agreement | None) -> Firm | FirmRefused:
    """Files the uploaded agreement as evidence and registers or replaces the firm with intake; what either refuses comes back beside the form."""
    errors = checked(form, agreement=agreement, court_ids={c.id for c in await courts(deps, visitor=visitor)})
    if errors:
        return FirmRefused(form=form, errors=errors)
    try:
        filed = await _filed(deps, visitor=visitor, uscc=form.uscc, agreement=agreement) if agreement else await _current(deps, visitor=visitor, uscc=form.uscc)
    except ServiceRefused as refused:
        if refused.status not in (413, 415, 422):
            raise
        return FirmRefused(form=form, errors=[FieldError("agreement", "协议文件过大" if refused.status == 413 else AGREEMENT_TYPES)])
    body = {
        "name": form.name,
        "email": form.email,
        "inbox": form.inbox,
        "agreement": filed,
        "court_ids": form.court_ids,
        "valid_from": form.valid_from,
        "valid_to": form.valid_to,
    }
    try:
        return await deps.firms.put(visitor.principal, form.uscc, body)
    except ServiceRefused as refused:
        if refused.status != 422:
            raise
        return FirmRefused(form=form, errors=field_errors(refused.errors, fields=FIRM_FIELDS))


async def _filed(deps: ConsoleDeps, *, visitor: Visitor, uscc: str, agreement: Agreement) -> dict[str, str]:
    # Evidence keeps a file under the sha256 of its bytes; the same file sent twice is one item (the key).
    sha256 = hashlib.sha256(agreement.content).hexdigest()
    metadata = {"notice_id": f"firm:{uscc}", "kind": EvidenceKind.firm_agreement.value}
    item = await deps.evidence.upload(
        visitor.principal, content=agreement.content, filename=agreement.filename, content_type=agreement.content_type, metadata=metadata, key=f"firm-agreement:{uscc}:{sha256}"
    )
    return {"evidence_id": item.id, "sha256": sha256}


async def _current(deps: ConsoleDeps, *, visitor: Visitor, uscc: str) -> dict[str, str]:
    current = await firm(deps, visitor=visitor, uscc=uscc)
    return current.agreement.model_dump()
