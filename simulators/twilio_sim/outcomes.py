"""What becomes of messages and calls to a number, as /sim/script is told and keeps it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.contracts.values import Phone
from simulators.twilio_sim.errors import CARRIER_ERRORS, REFUSALS


def _known(table: dict[int, str], kind: str) -> AfterValidator:
    def check(code: int) -> int:
        if code not in table:
            raise ValueError(f"{code} is not {kind} the simulator knows; use one of {', '.join(map(str, table))}")
        return code

    return AfterValidator(check)


CarrierError = Annotated[int, _known(CARRIER_ERRORS, "a carrier error")]
RefusalCode = Annotated[int, _known(REFUSALS, "a refusal")]


class _Outcome(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Delivered(_Outcome):
    """The handset receives the message."""

    outcome: Literal["delivered"] = "delivered"


class Undelivered(_Outcome):
    """The message is sent, then the carrier reports it undeliverable."""

    outcome: Literal["undelivered"] = "undelivered"
    error_code: CarrierError = 30003


class Failed(_Outcome):
    """The message never leaves Twilio."""

    outcome: Literal["failed"] = "failed"
    error_code: CarrierError = 30008


class Rejected(_Outcome):
    """Twilio refuses the request itself with HTTP 400; no message is created."""

    outcome: Literal["rejected"] = "rejected"
    error_code: RefusalCode = 21211


class Completed(_Outcome):
    """The callee answers and the call lasts `duration` seconds."""

    outcome: Literal["completed"] = "completed"
    # Twilio ends any call at four hours.
    duration: int = Field(default=42, ge=1, le=4 * 3600)


class NoAnswer(_Outcome):
    """The phone rings until the network gives up."""

    outcome: Literal["no-answer"] = "no-answer"


class Busy(_Outcome):
    """The callee declines or is on another call."""

    outcome: Literal["busy"] = "busy"


class CallFailed(_Outcome):
    """The network cannot route the call."""

    outcome: Literal["failed"] = "failed"


SmsOutcome = Annotated[Delivered | Undelivered | Failed | Rejected, Field(discriminator="outcome")]
CallOutcome = Annotated[Completed | NoAnswer | Busy | CallFailed, Field(discriminator="outcome")]


class Script(BaseModel):
    """Outcomes for every later message and call to one number; a channel left out keeps its earlier script."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: str
    sms: SmsOutcome | None = None
    call: CallOutcome | None = None

    @field_validator("number")
    @classmethod
    def _e164(cls, value: str) -> str:
        return Phone.parse(value).e164

    @model_validator(mode="after")
    def _says_something(self) -> Script:
        if self.sms is None and self.call is None:
            raise ValueError("give sms, call or both")
        return self


class Scripts:
    """The scripts in force, by E.164 number."""

    def __init__(self) -> None:
        self._by_number: dict[str, Script] = {}

    def put(self, script: Script) -> Script:
        """Stores a script over the number's earlier one and returns what is now in force."""
        earlier = self._by_number.get(script.number)
        if earlier is not None:
            script = script.model_copy(update={"sms": script.sms or earlier.sms, "call": script.call or earlier.call})
        self._by_number[script.number] = script
        return script

    def sms(self, number: str) -> SmsOutcome | None:
        """Returns the scripted outcome for messages to `number`, if any."""
        script = self._by_number.get(number)
        return script.sms if script else None

    def call(self, number: str) -> CallOutcome | None:
        """Returns the scripted outcome for calls to `number`, if any."""
        script = self._by_number.get(number)
        return script.call if script else None

    def all(self) -> list[Script]:
        """Returns every script in force, oldest number first."""
        return list(self._by_number.values())

    def clear(self) -> None:
        """Forgets every script."""
        self._by_number.clear()
