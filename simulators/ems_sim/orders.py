"""The payloads of EMS's API calls, checked as EMS checks them: a missing or unusable field is B00001."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from shared.contracts.values import Phone
from shared.plumbing.fields import field_path
from simulators.ems_sim.replies import Refusal

P = TypeVar("P", bound="_Payload")
Text = Annotated[str, Field(min_length=1)]
# pydantic's error types for a value that is absent or empty, as opposed to present and unusable.
_ABSENT = frozenset({"missing", "string_too_short", "too_short"})


class _Payload(BaseModel):
    # EMS ignores fields it does not know.
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, str_strip_whitespace=True, extra="ignore")


class Sender(_Payload):
    """The court sending the item."""

    name: Text
    mobile: str | None = None
    prov: str | None = None
    city: str | None = None
    county: str | None = None
    address: Text


class Receiver(_Payload):
    """The person or organisation the item is for."""

    name: Text
    # Court mail goes to an address; a number only lets the postman phone ahead.
    mobile: str | None = None
    post_code: str | None = None
    address: Text

    @field_validator("mobile")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        return Phone.parse(value).e164 if value else None


class Cargo(_Payload):
    """One document in the envelope."""

    cargo_name: Text


class Booking(_Payload):
    """020003: create a waybill."""

    logistics_order_no: str = Field(min_length=1, max_length=64)
    biz_product_no: str | None = None
    remark: str | None = None
    sender: Sender
    receiver: Receiver
    cargos: list[Cargo] = []


class Cancellation(_Payload):
    """020006: cancel a waybill."""

    waybill_no: Text
    cancel_reason: str | None = None


class Query(_Payload):
    """040001 and 040005: one waybill, for its traces so far or its return receipt's scan."""

    waybill_no: Text


def read(model: type[P], payload: dict[str, Any]) -> P:
    """Returns the payload as `model`, or raises the B00001 refusal naming the first field at fault."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = field_path(error["loc"])
        raise (Refusal.missing(field) if error["type"] in _ABSENT else Refusal.invalid(field)) from None
