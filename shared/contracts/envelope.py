"""The CloudEvents-named envelope every Kafka message travels in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

CONTENT_TYPE = "application/cloudevents+json"


class Envelope(BaseModel):
    """One message: CloudEvents attributes plus Songda's correlation and causation ids."""

    model_config = ConfigDict(frozen=True)

    specversion: Literal["1.0"] = "1.0"
    # The idempotency key: consumers record it in their inbox.
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    source: str
    # The notice id; also the Kafka key, so one notice's messages stay ordered per topic.
    subject: str
    time: AwareDatetime
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str
    dataversion: int = Field(ge=1)
    correlationid: str
    causationid: str | None = None
    data: dict[str, Any]

    def to_bytes(self) -> bytes:
        """Serialises the envelope as the Kafka message value."""
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        """Parses a Kafka message value; raises pydantic.ValidationError on a malformed one."""
        return cls.model_validate_json(raw)


def schema_uri(event_type: str, version: int) -> str:
    """Names an event's JSON schema, e.g. urn:songda:event:intake.NoticeRegistered:v1."""
    return f"urn:songda:event:{event_type}:v{version}"


def wrap(
    data: dict[str, Any],
    *,
    event_type: str,
    version: int,
    source: str,
    subject: str,
    time: datetime,
    correlationid: str,
    causationid: str | None = None,
) -> Envelope:
    """Builds an envelope around already-serialised event data."""
    return Envelope(
        type=event_type,
        source=source,
        subject=subject,
        time=time,
        dataschema=schema_uri(event_type, version),
        dataversion=version,
        correlationid=correlationid,
        causationid=causationid,
        data=data,
    )
