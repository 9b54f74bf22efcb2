"""Plans an item's trace nodes from booking to return receipt or return, in domain time, as 法院专递 runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from shared.contracts.ems_wire import Trace, format_time
from shared.plumbing.clock import SHANGHAI, local_date
from simulators.ems_sim.codes import NOBODY_IN, OP_NAMES, REFUSED, RETURNS, SIGNERS
from simulators.ems_sim.mix import RandomMix
from simulators.ems_sim.offices import FAMILY_NAMES, INTAKE, MAIL_ROOM_NAMES, OTHER_NAMES, SORTING, Office, Station
from simulators.ems_sim.scripts import Delivered, Delivery, Refused, Returned

# Beijing-time windows. EMS delivers every day of the week, so no working-day calendar applies.
MORNING_VAN = (time(7, 30), time(9, 0))
ROUND_START = (time(8, 30), time(10, 30))
OFFICE_HOURS = (time(9, 0), time(16, 30))
# 法院专递 rules: at most three attempts, all within five days of the first.
MAX_ATTEMPTS = 3
SIGNER_NAMES = {"family": FAMILY_NAMES, "mail_room": MAIL_ROOM_NAMES, "other": OTHER_NAMES}


@dataclass(frozen=True)
class Node:
    """A trace node and the domain instant it happens."""

    at: datetime
    trace: Trace


def _attempt_days(first: date, attempts: int, mix: RandomMix) -> list[date]:
    # Gaps of one or two days keep the third attempt within four days of the first.
    days = [first]
    while len(days) < attempts:
        days.append(days[-1] + timedelta(days=mix.days(1, 2)))
    return days


def _morning_after(moment: datetime, mix: RandomMix) -> datetime:
    """Draws the first morning van's arrival at least an hour after `moment`."""
    earliest = moment + timedelta(hours=1)
    day = local_date(earliest)
    if earliest.astimezone(SHANGHAI).time() > MORNING_VAN[0]:
        day += timedelta(days=1)
    return mix.during(day, *MORNING_VAN)


class _Plan:
    def __init__(self, waybill_no: str, station: Station, mix: RandomMix) -> None:
        self.waybill_no = waybill_no
        self.station = station
        self.mix = mix
        self.nodes: list[Node] = []
        self.postman = mix.pick(range(len(station.staff)))

    def add(self, at: datetime, code: str, desc: str, office: Office, *, operator: str | None = None, attempt: int | None = None, deliver: str | None = None) -> datetime:
        trace = Trace(
            waybill_no=self.waybill_no,
            op_time=format_time(at),
            op_code=code,
            op_name=OP_NAMES[code],
            op_desc=desc,
            op_org_code=office.code,
            op_org_name=office.name,
            operator_name=operator or self.mix.pick(office.staff),
            deliver_code=deliver,
            attempt_delivery_code=None if attempt is None else str(attempt),
        )
        self.nodes.append(Node(at, trace))
        return at

    def out_for_delivery(self, at: datetime, attempt: int) -> datetime:
        name, phone = self.station.staff[self.postman], self.station.phones[self.postman]
        return self.add(at, "702", f"投递员：{name}，电话：{phone}", self.station, operator=name, attempt=attempt)

    def at_the_door(self, out: datetime, code: str, desc: str, attempt: int, *, deliver: str | None = None) -> datetime:
        at = out + self.mix.after(timedelta(hours=1), timedelta(hours=5))
        return self.add(at, code, desc, self.station, operator=self.station.staff[self.postman], attempt=attempt, deliver=deliver)

    def returned(self, after: datetime, reason: str) -> None:
        at = self.mix.during(local_date(after) + timedelta(days=1), *OFFICE_HOURS)
        self.add(at, "711", f"退回寄件人，原因：{reason}", self.station)


def _signer_name(delivered: Delivered, receiver_name: str, mix: RandomMix) -> str:
    if delivered.signer_name:
        return delivered.signer_name
    return receiver_name if delivered.signer == "recipient" else mix.pick(SIGNER_NAMES[delivered.signer])


def plan(*, waybill_no: str, booked_at: datetime, delivery: Delivery, receiver_name: str, station: Station, mix: RandomMix) -> list[Node]:
    """Plans every node of an item; planned at booking so that a seed repeats the same run."""
    p = _Plan(waybill_no, station, mix)
    accepted = p.add(booked_at + mix.after(timedelta(minutes=40), timedelta(minutes=80)), "203", "已收寄", INTAKE)
    left = p.add(accepted + mix.after(timedelta(hours=6), timedelta(hours=10)), "310", f"离开【{SORTING.name}】，下一站【{station.short}】", SORTING)
    arrived = p.add(_morning_after(left, mix), "306", f"到达【{station.short}】", station)
    signer = _signer_name(delivery, receiver_name, mix) if isinstance(delivery, Delivered) else ""
    miss = f"未妥投，原因：{RETURNS[delivery.reason][0] if isinstance(delivery, Returned) else NOBODY_IN}"
    # The last attempt's (code, description, deliverCode); every earlier attempt is a 705.
    final: tuple[str, str, str | None]
    match delivery:
        case Delivered():
            attempts, final = delivery.failed_attempts + 1, ("704", SIGNERS[delivery.signer][1].format(name=signer), "1")
        case Returned():
            attempts, final = MAX_ATTEMPTS, ("705", miss, None)
        case Refused():
            attempts, final = 1, ("706", REFUSED, None)
    last = arrived
    for attempt, day in enumerate(_attempt_days(local_date(arrived), attempts, mix), start=1):
        start = arrived + mix.after(timedelta(minutes=30), timedelta(minutes=90)) if attempt == 1 else mix.during(day, *ROUND_START)
        out = p.out_for_delivery(start, attempt)
        code, desc, deliver = final if attempt == attempts else ("705", miss, None)
        last = p.at_the_door(out, code, desc, attempt, deliver=deliver)
    match delivery:
        case Delivered():
            signed_on = local_date(last)
            receipt = mix.during(signed_on + timedelta(days=mix.days(2, 4)), *OFFICE_HOURS)
            relation = SIGNERS[delivery.signer][0]
            p.add(receipt, "801", f"回执已返回，签收人：{signer}，关系：{relation}，签收日期：{signed_on.isoformat()}", INTAKE)
        case Returned():
            p.returned(last, RETURNS[delivery.reason][1])
        case Refused():
            p.returned(last, REFUSED)
    return p.nodes
