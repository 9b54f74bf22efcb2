"""What becomes of items sent to a receiver, as /sim/script is told and keeps it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.contracts.values import Phone
from simulators.ems_sim.codes import OP_NAMES, ReturnReason, Signer


def _known_code(code: str) -> str:
    if code not in OP_NAMES:
        raise ValueError(f"{code} is not a trace code the simulator writes; use one of {', '.join(OP_NAMES)}")
    return code


OpCode = Annotated[str, AfterValidator(_known_code)]


class _Outcome(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Delivered(_Outcome):
    """Someone signs for the item, after `failed_attempts` visits that found nobody in."""

    outcome: Literal["delivered"] = "delivered"
    signer: Signer = "recipient"
    # Left out, it is the receiver's own name for the recipient, else a name drawn from a list.
    signer_name: str | None = Field(default=None, min_length=1, max_length=30)
    # The third attempt is the last the rules allow, so at most two may fail first.
    failed_attempts: int = Field(default=0, ge=0, le=2)


class Returned(_Outcome):
    """Three attempts fail, then the item goes back to the court with the reason."""

    outcome: Literal["returned"] = "returned"
    reason: ReturnReason = "unclaimed"


class Refused(_Outcome):
    """The receiver refuses the item at the door; it goes back the next day."""

    outcome: Literal["refused"] = "refused"


Delivery = Annotated[Delivered | Returned | Refused, Field(discriminator="outcome")]


class Script(BaseModel):
    """What happens to every later item for one receiver phone or one exact address."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    phone: str | None = None
    address: str | None = None
    booking: Literal["accepted", "refused"] = "accepted"
    # Left out, the item meets the random mix.
    delivery: Delivery | None = None
    # No random duplicate, held or dropped push, no outage or slow answer for these items.
    clean: bool = False
    drop: tuple[OpCode, ...] = ()
    duplicate: tuple[OpCode, ...] = ()
    # The last out-for-delivery node (702) is pushed after the node that follows it.
    reorder: bool = False
    # The first this many receipt-scan queries (040005) after the 801 answer B00005, as if the card were not scanned yet.
    withhold_scan: int = Field(default=0, ge=0, le=20)

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        return None if value is None else Phone.parse(value.strip()).e164

    @field_validator("address")
    @classmethod
    def _stripped(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @model_validator(mode="after")
    def _one_receiver(self) -> Script:
        if (self.phone is None) == (self.address is None):
            raise ValueError("give either phone or address")
        return self

    @property
    def key(self) -> str:
        """Returns the phone or address the script is kept under."""
        return self.phone or self.address or ""


class Scripts:
    """The scripts in force, by E.164 phone or exact address."""

    def __init__(self) -> None:
        self._by_key: dict[str, Script] = {}

    def put(self, script: Script) -> Script:
        """Stores a script over the receiver's earlier one."""
        self._by_key[script.key] = script
        return script

    def for_receiver(self, *, phone: str | None, address: str) -> Script | None:
        """Returns the script for a receiver: by phone first, then by address."""
        return (self._by_key.get(phone) if phone else None) or self._by_key.get(address)

    def all(self) -> list[Script]:
        """Returns every script in force, oldest first."""
        return list(self._by_key.values())

    def clear(self) -> None:
        """Forgets every script."""
        self._by_key.clear()
