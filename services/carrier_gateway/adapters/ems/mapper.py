"""Maps between Songda and EMS: court-mail commands to bookings, EMS answers and traces to Songda's events."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from shared.contracts.ems_wire import RET_OK, Answer, Trace, Traces, WireError, parse_time
from shared.contracts.events import DispatchPostalItem, PostalStatus, ReceiptReturned, ReturnReason, SignerRole, TrackingUpdated
from shared.plumbing.clock import local_date

# The product docs/ems.md books court mail (法院专递) under.
COURT_MAIL_PRODUCT = "11"
# Only a B-code answer is EMS judging the mail item itself (docs/ems.md).
_REFUSAL_PREFIX = "B"


# Booking


class Sender(BaseModel):
    """The court's own return address as the 020003 sender block, fields named as EMS names them."""

    model_config = ConfigDict(frozen=True)

    name: str
    mobile: str
    prov: str
    city: str
    county: str
    address: str


@dataclass(frozen=True)
class Booked:
    """EMS accepted the booking under this waybill number."""

    waybill_no: str


@dataclass(frozen=True)
class Refused:
    """EMS refused to carry this item (a B-code), with its code and message."""

    code: str
    reason: str


class CarrierRejected(RuntimeError):
    """EMS refused the request itself (credentials, encryption, API code): our configuration is wrong, not the item."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"EMS rejected the request: {code} {message}")
        self.code = code
        self.message = message


def booking_payload(command: DispatchPostalItem, *, sender: Sender) -> dict[str, Any]:
    """Returns the 020003 create-waybill payload for a court-mail command."""
    receiver = {"name": command.receiver_name, "mobile": _national(command.receiver_phone), "postCode": command.postcode, "address": command.address}
    return {
        # EMS deduplicates on the order number: a redelivered command gets the same waybill back.
        "logisticsOrderNo": command.attempt_id,
        "bizProductNo": COURT_MAIL_PRODUCT,
        "remark": command.case_number,
        "sender": sender.model_dump(),
        "receiver": {key: value for key, value in receiver.items() if value is not None},
        "cargos": [{"cargoName": title} for title in command.documents],
    }


def _national(phone: str | None) -> str | None:
    # EMS dials numbers inside China only; a foreign number would get the whole booking refused as an invalid field.
    if phone is None or not phone.startswith("+86"):
        return None
    digits = phone.removeprefix("+86")
    # Mobiles are dialled as their 11 digits, fixed lines with the trunk 0 before the area code.
    return digits if digits.startswith("1") else "0" + digits


def booking_outcome(envelope: Answer | Mapping[str, Any]) -> Booked | Refused:
    """Returns what EMS's answer to a 020003 booking says; raises CarrierRejected for a request EMS would not read."""
    fields = envelope.model_dump() if isinstance(envelope, Answer) else envelope
    code, message, body = fields["retCode"], fields.get("retMsg") or "", fields.get("retBody") or {}
    if code == RET_OK:
        if not body.get("waybillNo"):
            raise WireError("a successful 020003 answer names no waybillNo")
        return Booked(waybill_no=body["waybillNo"])
    if code.startswith(_REFUSAL_PREFIX):
        return Refused(code=code, reason=message)
    # An S-code (bad authorisation, a payload that does not decrypt, an unknown API) would refuse every
    # item alike: answering DispatchFailed would push each recipient off court mail for our own
    # misconfiguration. Raising lets the command be retried and then parked on the dead-letter topic,
    # to be replayed once the configuration is fixed.
    raise CarrierRejected(code, message)


# Traces


def traces(envelope: Answer) -> list[Trace]:
    """Returns the nodes a 040001 tracking answer lists; a refusal lists none."""
    return Traces.model_validate(envelope.ret_body or {"traces": []}).traces if envelope.ok else []


class OpCode(StrEnum):
    """EMS trace codes from docs/ems.md, in journey order (which settles ties between nodes of the same minute)."""

    collected = "203"
    left_centre = "310"
    arrived_at_office = "306"
    out_for_delivery = "702"
    not_delivered = "705"
    delivered = "704"
    refused = "706"
    returned = "711"
    receipt_returned = "801"


STATUS: dict[str, PostalStatus] = {
    OpCode.collected: PostalStatus.accepted,
    OpCode.left_centre: PostalStatus.in_transit,
    OpCode.arrived_at_office: PostalStatus.arrived,
    OpCode.out_for_delivery: PostalStatus.out_for_delivery,
    OpCode.not_delivered: PostalStatus.delivery_failed,
    OpCode.delivered: PostalStatus.delivered,
    OpCode.refused: PostalStatus.refused,
    OpCode.returned: PostalStatus.returned,
    OpCode.receipt_returned: PostalStatus.receipt_returned,
}

# First match wins; 本人 comes last, after 非本人 ("not the recipient"), so that a description naming anyone
# else is never read as the recipient's own signature.
_SIGNER_ROLES: tuple[tuple[str, SignerRole], ...] = (
    ("家人", SignerRole.family_member),
    ("家属", SignerRole.family_member),
    ("收发室", SignerRole.mail_room),
    ("单位", SignerRole.mail_room),
    ("律师", SignerRole.litigation_agent),
    ("代理人", SignerRole.litigation_agent),
    ("他人", SignerRole.other),
    ("邻居", SignerRole.other),
    ("物业", SignerRole.other),
    ("非本人", SignerRole.other),
    ("本人", SignerRole.recipient),
)

_RETURN_REASONS: tuple[tuple[str, ReturnReason], ...] = (
    ("招领期满", ReturnReason.unclaimed),
    ("无人领取", ReturnReason.unclaimed),
    ("地址错误", ReturnReason.address_wrong),
    ("查无此人", ReturnReason.address_wrong),
    ("迁移", ReturnReason.moved),
    ("新址不明", ReturnReason.moved),
    ("拒收", ReturnReason.refused),
    ("下落不明", ReturnReason.whereabouts_unknown),
)

# The patterns read text after NFKC, so full-width colons, commas and digits arrive as ASCII.
_BRACKETED = re.compile(r"【\s*(?P<relation>[^:】]+?)\s*:\s*(?P<name>[^】]+?)\s*】")
_SIGNER_NAME = re.compile(r"签收人\s*:\s*(?P<name>[^,;]+?)\s*(?:[,;]|$)")
_RELATION = re.compile(r"关系\s*:\s*(?P<relation>[^,;]+?)\s*(?:[,;]|$)")
_SIGNED_ON = re.compile(r"签收日期\s*:\s*(?P<year>\d{4})\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})")


@dataclass(frozen=True)
class Node:
    """One EMS trace normalised, its raw code, name and description kept beside what was read from them."""

    waybill_no: str
    status: PostalStatus
    op_time: datetime
    op_code: str
    op_name: str | None
    op_desc: str | None
    attempt: int | None = None
    signer_role: SignerRole | None = None
    signer_name: str | None = None
    relation: str | None = None
    return_reason: ReturnReason | None = None
    signed_on: date | None = None


def node(trace: Trace) -> Node:
    """Returns the trace normalised; a description it cannot read leaves its fields None, never raises."""
    attempt = trace.attempt_delivery_code
    read = _READERS.get(trace.op_code)
    return Node(
        waybill_no=trace.waybill_no,
        status=STATUS.get(trace.op_code, PostalStatus.unknown),
        op_time=parse_time(trace.op_time),
        op_code=trace.op_code,
        op_name=trace.op_name,
        op_desc=trace.op_desc,
        attempt=int(attempt) if attempt and attempt.isdecimal() else None,
        **(read(_plain(trace.op_desc)) if read else {}),
    )


def _plain(text: str | None) -> str:
    # Counter clerks type descriptions by hand, in full- or half-width punctuation with stray spaces.
    return unicodedata.normalize("NFKC", text or "").strip()


def _first(text: str, table: tuple[tuple[str, Any], ...]) -> Any:
    return next((value for keyword, value in table if keyword in text), None)


def _group(pattern: re.Pattern[str], text: str, name: str) -> str | None:
    match = pattern.search(text)
    return match[name].strip() if match else None


def _signer(text: str) -> dict[str, Any]:
    bracketed = _BRACKETED.search(text)
    relation = bracketed["relation"].strip() if bracketed else _group(_RELATION, text, "relation")
    name = bracketed["name"].strip() if bracketed else _group(_SIGNER_NAME, text, "name")
    # A relation EMS wrote down names someone, so an unlisted one is "other"; without one only the
    # wording (本人签收, 单位收发室签收) can tell, and a description that says nothing leaves the role unknown.
    role = (_first(relation, _SIGNER_ROLES) or SignerRole.other) if relation else _first(text, _SIGNER_ROLES)
    return {"signer_role": role, "signer_name": name or None, "relation": relation}


def _receipt(text: str) -> dict[str, Any]:
    return {**_signer(text), "signed_on": _signed_on(text)}


def _signed_on(text: str) -> date | None:
    match = _SIGNED_ON.search(text)
    if match is None:
        return None
    try:
        return date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        return None


def _return(text: str) -> dict[str, Any]:
    return {"return_reason": _first(text, _RETURN_REASONS) or ReturnReason.other}


_READERS: dict[str, Callable[[str], dict[str, Any]]] = {
    OpCode.delivered: _signer,
    OpCode.receipt_returned: _receipt,
    OpCode.returned: _return,
    OpCode.refused: lambda _: {"return_reason": ReturnReason.refused},
}


# Ordering

# How settled an item is, whatever the time: a node never replaces one of a higher rank. Everything
# under way shares one rank because a retry (705 → 702) or a re-route (705 → 306 at another office)
# is forward movement although the status looks like a step back; time orders those. Signed or
# refused at the door outranks them, so a later scan does not undo it; returned and receipt back are
# final, so not even the return trip's own scans (310, 306, a 704 at the court) move the item.
RANK: dict[PostalStatus, int] = {
    PostalStatus.unknown: 0,
    PostalStatus.accepted: 1,
    PostalStatus.in_transit: 1,
    PostalStatus.arrived: 1,
    PostalStatus.out_for_delivery: 1,
    PostalStatus.delivery_failed: 1,
    PostalStatus.delivered: 2,
    PostalStatus.refused: 2,
    PostalStatus.returned: 3,
    PostalStatus.receipt_returned: 3,
}
_STEP: dict[str, int] = {code: step for step, code in enumerate(OpCode)}


def advances(current: PostalStatus | None, new: PostalStatus) -> bool:
    """Tells whether a node of status `new` may replace the current node of status `current`: never from a higher RANK."""
    return current is None or RANK[new] >= RANK[current]


def supersedes(current: Node | None, new: Node) -> bool:
    """Tells whether `new` becomes the item's current node: a higher RANK wins, and within a RANK the later node.

    "Later" compares op_time, then the delivery attempt, then the code's place in the journey (OpCode
    order, unknown codes first), then the raw code. This is a total order on nodes, so the current node
    is the same whatever order, and however often, the traces arrive.
    """
    if current is None:
        return True
    if not advances(current.status, new.status):
        return False
    return RANK[new.status] > RANK[current.status] or _when(new) > _when(current)


def _when(node: Node) -> tuple[datetime, int, int, str]:
    return (node.op_time, node.attempt or 0, _STEP.get(node.op_code, -1), node.op_code)


# Events


def tracking(node: Node, *, notice_id: str, attempt_id: str) -> TrackingUpdated:
    """Returns the TrackingUpdated event for a node, with EMS's raw code, name and description."""
    return TrackingUpdated(
        notice_id=notice_id,
        attempt_id=attempt_id,
        waybill_no=node.waybill_no,
        status=node.status,
        op_time=node.op_time,
        op_code=node.op_code,
        op_name=node.op_name,
        op_desc=node.op_desc,
        signer_role=node.signer_role,
        return_reason=node.return_reason,
    )


def receipt(node: Node, *, notice_id: str, attempt_id: str) -> ReceiptReturned | None:
    """Returns the ReceiptReturned an 801 node reports, or None for any other node or a receipt whose signer cannot be read."""
    # An unread signer proves no service (CPL 87): nothing is guessed, and the raw text goes out on TrackingUpdated.
    if node.status is not PostalStatus.receipt_returned or node.signer_role is None or node.signer_name is None:
        return None
    return ReceiptReturned(
        notice_id=notice_id,
        attempt_id=attempt_id,
        waybill_no=node.waybill_no,
        signer_name=node.signer_name,
        signer_role=node.signer_role,
        relation=node.relation,
        # CPL 91: the date on the receipt is the service date; the day it came back stands in only when none can be read.
        signed_on=node.signed_on or local_date(node.op_time),
        returned_at=node.op_time,
        scan_evidence_id=None,
    )
