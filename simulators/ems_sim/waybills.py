"""Waybills as the simulator keeps them: what was booked, the traces so far, and what became of each push."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shared.contracts.ems_wire import Trace, format_time, parse_time
from shared.contracts.values import mask_phone
from shared.plumbing.clock import local_date
from simulators.ems_sim.codes import OUT_FOR_DELIVERY, STATUSES
from simulators.ems_sim.scripts import Delivery


@dataclass(frozen=True)
class PushNote:
    """What happened to one node's push: pushed, duplicated, dropped, held or abandoned."""

    op_code: str
    op_time: str
    action: str
    at: datetime

    def json(self) -> dict[str, str]:
        """Returns the note as /sim/waybills/{no} lists it."""
        return {"opCode": self.op_code, "opTime": self.op_time, "action": self.action, "at": format_time(self.at)}


@dataclass(frozen=True)
class ScanNote:
    """How one receipt-scan query (040005) was answered."""

    ret_code: str
    at: datetime

    def json(self) -> dict[str, str]:
        """Returns the note as /sim/waybills/{no} lists it."""
        return {"retCode": self.ret_code, "at": format_time(self.at)}


@dataclass
class Waybill:
    """A booked item and where it has got to."""

    number: str
    order_no: str
    receiver_phone: str | None
    delivery: Delivery
    # A clean item meets no random misbehaviour.
    clean: bool
    booked_at: datetime
    # Receipt-scan queries still to be answered "not yet" after the 801, as the item's script asked.
    withheld_scans: int = 0
    traces: list[Trace] = field(default_factory=list)
    pushes: list[PushNote] = field(default_factory=list)
    scans: list[ScanNote] = field(default_factory=list)
    cancelled: bool = False
    # Every node has happened and every push that will ever be made was made.
    finished: bool = False

    @property
    def last_code(self) -> str | None:
        """Returns the code of the latest node, if any."""
        return self.traces[-1].op_code if self.traces else None

    @property
    def status(self) -> str:
        """Returns the normalised status the latest node stands for, `booked` before any, or `cancelled`."""
        if self.cancelled:
            return "cancelled"
        return STATUSES[self.last_code] if self.last_code else "booked"

    @property
    def cancellable(self) -> bool:
        """Tells whether the court may still cancel: not once a postman has taken the item out."""
        return not any(trace.op_code in OUT_FOR_DELIVERY for trace in self.traces)

    @property
    def receipt_back(self) -> bool:
        """Tells whether the return receipt card has come back to the court (its 801 happened)."""
        return any(trace.op_code == "801" for trace in self.traces)

    @property
    def signed_on(self) -> date | None:
        """Returns the Beijing date the item was signed for (its 704), if it was."""
        signed = next((trace for trace in self.traces if trace.op_code == "704"), None)
        return local_date(parse_time(signed.op_time)) if signed else None

    def record(self, trace: Trace) -> None:
        """Adds a node that has happened."""
        self.traces.append(trace)

    def note(self, trace: Trace, action: str, *, at: datetime) -> None:
        """Records what became of a node's push."""
        self.pushes.append(PushNote(trace.op_code, trace.op_time, action, at))

    def summary(self) -> dict[str, Any]:
        """Returns the waybill as /sim/waybills lists it, the receiver masked."""
        return {
            "waybillNo": self.number,
            "logisticsOrderNo": self.order_no,
            "status": self.status,
            "lastCode": self.last_code,
            "receiver": mask_phone(self.receiver_phone) if self.receiver_phone else None,
            "bookedAt": format_time(self.booked_at),
        }

    def detail(self) -> dict[str, Any]:
        """Returns the waybill with its outcome, every trace so far, its push log and the answers to its receipt-scan queries."""
        return {
            **self.summary(),
            "delivery": self.delivery.model_dump(),
            "clean": self.clean,
            "finished": self.finished,
            "traces": [trace.wire() for trace in self.traces],
            "pushes": [note.json() for note in self.pushes],
            "scans": [note.json() for note in self.scans],
        }
