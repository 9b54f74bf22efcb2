"""Delivery policy: time limits, visit slots, contact hours, blocking evidence flags, prices and the roster's first agents, read from TOML."""

from __future__ import annotations

import tomllib
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.contracts.events import Channel

DEFAULT_FILE = Path(__file__).with_name("policy.toml")


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WorkingHours(Section):
    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        if self.end <= self.start:
            raise ValueError("working_hours.end must be after working_hours.start")
        return self


class ServiceTime(StrEnum):
    arrival = "arrival"
    acknowledgement = "acknowledgement"


class Electronic(Section):
    service_time: ServiceTime = ServiceTime.arrival
    arrival_wait_hours: float = Field(gt=0)
    # Working hours a message that arrived but does not serve by arriving waits for the acknowledgement or read report.
    acknowledgement_wait_hours: float = Field(default=27.0, gt=0)
    retry_delay_hours: float = Field(gt=0)
    retries: int = Field(ge=0)
    call_unconsented_phones: bool = True
    # OLR Art. 32: run the consented written channels (the lawyer's firm, SMS, e-mail) at once; the first to serve decides.
    parallel: bool = False
    # Minutes an e-mail the mail server accepted waits for a bounce before its arrival counts; 0: it counts at once.
    bounce_wait_minutes: float = Field(default=0.0, ge=0)
    link_valid_days: int = Field(ge=1)


class VisitSlot(Section):
    label: str
    days: Literal["working", "rest"]
    start: time
    end: time


class Assignment(StrEnum):
    area = "area"
    round_robin = "round_robin"


class Direct(Section):
    visits: list[VisitSlot] = Field(min_length=1)
    assignment: Assignment = Assignment.area


class Postal(Section):
    receipt_wait_days: int = Field(ge=1)


class Posting(Section):
    window_days: int = Field(ge=1)


class Deadline(Section):
    warn_hours_before: float = Field(ge=0)


class ContactWindow(Section):
    """When a channel may reach a party: on which days, from `start` to `end` Beijing time (start = end: the whole day)."""

    days: Literal["any", "working"]
    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> ContactWindow:
        if self.end < self.start:
            raise ValueError("a contact window's end must not be before its start (start = end: the whole day)")
        return self


class ContactHours(Section):
    """When calls and text messages may go out; e-mail and a firm's mailbox wait for nobody."""

    sms: ContactWindow
    voice: ContactWindow


class EvidenceRules(Section):
    blocking_flags: frozenset[str] = frozenset()


class Prices(Section):
    """What one attempt of each channel costs, in fen (分)."""

    sms: int = Field(ge=0)
    call: int = Field(ge=0)
    email: int = Field(ge=0)
    court_mail: int = Field(ge=0)
    visit: int = Field(ge=0)
    posting: int = Field(ge=0)
    public_notice: int = Field(ge=0)

    def of(self, channel: Channel) -> int:
        """Returns the price of one attempt on `channel`; a lawyer's firm is written to by e-mail."""
        return {
            Channel.sms: self.sms,
            Channel.voice: self.call,
            Channel.email: self.email,
            Channel.lawyer_firm: self.email,
            Channel.court_mail: self.court_mail,
            Channel.visit: self.visit,
            Channel.posting: self.posting,
            Channel.publication: self.public_notice,
        }[channel]


# A roster id: lower-case letters, digits and hyphens, as agents' tokens carry it.
AGENT_ID = r"^[a-z0-9][a-z0-9-]{1,63}$"


class Agent(Section):
    """A member of the delivery team as the roster's first seed names them (the roster itself is `delivery_agent`)."""

    id: str = Field(pattern=AGENT_ID)
    name: str = Field(min_length=1, max_length=100)
    areas: list[str] = []


class Policy(Section):
    """The whole delivery policy; every field is required in the file so nothing hides in code."""

    working_hours: WorkingHours
    electronic: Electronic
    direct: Direct
    postal: Postal
    posting: Posting
    deadline: Deadline
    contact_hours: ContactHours
    evidence: EvidenceRules
    prices: Prices
    # Only the roster's first seed: read into `delivery_agent` when that table is empty, kept there by supervisors.
    agents: list[Agent] = Field(min_length=1)


def load_policy(path: Path | None = None) -> Policy:
    """Reads a policy file (the shipped default when None); raises ValueError naming what is wrong."""
    source = path or DEFAULT_FILE
    try:
        return Policy.model_validate(tomllib.loads(source.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read delivery policy {source}: {exc}") from exc
