"""The message envelope and the versioned event registry: round trips, decoding and upcasting."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from services.intake.notices import registered_event
from services.intake.requests import NoticeIn
from shared.contracts.envelope import Envelope, schema_uri, wrap
from shared.contracts.events import NoticeRegistered
from shared.contracts.registry import Event, UnknownEvent, decode, event, has_upcaster, upcaster
from tests.support import ranked_notice

EXAMPLE = json.loads((Path(__file__).parents[2] / "docs" / "examples" / "notice.json").read_text())
SHANGHAI_TZ = timezone(timedelta(hours=8))
REGISTERED_AT = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)


# Test-only event types: their names start with "test." so the schema snapshot test leaves them out.


@event("test.RegistryWidget", version=3)
class Widget(Event):
    """v1 had `label`; v2 renamed it `name`; v3 added `size`."""

    name: str
    size: int


@upcaster("test.RegistryWidget", from_version=1)
def _widget_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    rest = {k: v for k, v in data.items() if k != "label"}
    return {**rest, "name": data["label"]}


@upcaster("test.RegistryWidget", from_version=2)
def _widget_2_to_3(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "size": 0}


@event("test.RegistryGadget", version=3)
class Gadget(Event):
    """Has an upcaster from v2 only: v1 data cannot be lifted."""

    name: str
    size: int


@upcaster("test.RegistryGadget", from_version=2)
def _gadget_2_to_3(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "size": 0}


def notice_registered() -> NoticeRegistered:
    """Builds the event from docs/examples/notice.json through intake's own code path."""
    payload = NoticeIn.model_validate(EXAMPLE).model_dump(mode="json")
    return registered_event(ranked_notice(payload, now=REGISTERED_AT))


def envelope_for(event_type: str, version: int, data: dict[str, Any]) -> Envelope:
    return wrap(
        data,
        event_type=event_type,
        version=version,
        source="songda/test",
        subject="notice-1",
        time=REGISTERED_AT,
        correlationid="corr-1",
    )


def envelope_fields() -> dict[str, Any]:
    return {
        "id": uuid.UUID("3f2b8c1e-9a4d-4e6b-8c2f-1a2b3c4d5e6f"),
        "type": "intake.NoticeRegistered",
        "source": "songda/intake",
        "subject": "notice-1",
        "time": datetime(2026, 11, 24, 0, 30, tzinfo=SHANGHAI_TZ),
        "dataschema": "urn:songda:event:intake.NoticeRegistered:v1",
        "dataversion": 1,
        "correlationid": "corr-1",
        "causationid": "cause-1",
        "data": {"notice_id": "notice-1", "nested": {"list": [1, "两", None, True]}},
    }


# Envelope


def test_envelope_round_trip_keeps_every_attribute() -> None:
    original = Envelope(**envelope_fields())
    parsed = Envelope.from_bytes(original.to_bytes())
    for name in Envelope.model_fields:
        assert getattr(parsed, name) == getattr(original, name), name
    assert parsed.time.utcoffset() == timedelta(hours=8)
    assert parsed == original


def test_envelope_defaults() -> None:
    fields = envelope_fields()
    del fields["id"], fields["causationid"]
    first, second = Envelope(**fields), Envelope(**fields)
    assert first.specversion == "1.0"
    assert first.datacontenttype == "application/json"
    assert first.causationid is None
    assert first.id != second.id  # each envelope gets its own idempotency key


def test_envelope_rejects_naive_time() -> None:
    with pytest.raises(ValidationError) as info:
        Envelope(**{**envelope_fields(), "time": datetime(2026, 11, 23, 8, 30)})
    assert [e["loc"] for e in info.value.errors()] == [("time",)]


@pytest.mark.parametrize("field", ["type", "source", "subject", "time", "dataschema", "dataversion", "correlationid", "data"])
def test_envelope_requires_field(field: str) -> None:
    fields = envelope_fields()
    del fields[field]
    with pytest.raises(ValidationError) as info:
        Envelope(**fields)
    assert [(e["loc"], e["type"]) for e in info.value.errors()] == [((field,), "missing")]


@pytest.mark.parametrize(
    ("field", "value"),
    [("dataversion", 0), ("specversion", "0.3"), ("datacontenttype", "text/xml"), ("id", "not-a-uuid")],
)
def test_envelope_rejects_bad_value(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        Envelope(**{**envelope_fields(), field: value})


def test_from_bytes_rejects_malformed_message() -> None:
    raw = json.loads(Envelope(**envelope_fields()).to_bytes())
    del raw["subject"]
    with pytest.raises(ValidationError):
        Envelope.from_bytes(json.dumps(raw).encode())
    with pytest.raises(ValidationError):
        Envelope.from_bytes(b"not json")


def test_envelope_is_frozen() -> None:
    envelope = Envelope(**envelope_fields())
    with pytest.raises(ValidationError):
        envelope.subject = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("event_type", "version", "uri"),
    [
        ("intake.NoticeRegistered", 1, "urn:songda:event:intake.NoticeRegistered:v1"),
        ("delivery.AttemptStarted", 12, "urn:songda:event:delivery.AttemptStarted:v12"),
    ],
)
def test_schema_uri(event_type: str, version: int, uri: str) -> None:
    assert schema_uri(event_type, version) == uri


# Event → envelope → bytes → event


def test_event_envelope_names_type_and_version() -> None:
    envelope = notice_registered().envelope(source="songda/intake", subject="n-1", time=REGISTERED_AT, correlationid="c-1")
    assert envelope.type == "intake.NoticeRegistered"
    assert envelope.dataversion == 2
    assert envelope.dataschema == "urn:songda:event:intake.NoticeRegistered:v2"
    assert (envelope.source, envelope.subject, envelope.correlationid, envelope.causationid) == ("songda/intake", "n-1", "c-1", None)


def test_decode_returns_registered_class() -> None:
    original = notice_registered()
    envelope = original.envelope(source="songda/intake", subject=original.notice_id, time=REGISTERED_AT, correlationid="c-1", causationid="k-1")
    decoded = decode(Envelope.from_bytes(envelope.to_bytes()))
    assert type(decoded) is NoticeRegistered
    assert decoded == original
    assert decoded.recipients[0].phones[0].e164 == "+8613800138000"
    assert decoded.recipients[0].candidates[0].provenance[0].kind == "filing"


def test_decode_unknown_type() -> None:
    with pytest.raises(UnknownEvent, match="test.NeverRegistered"):
        decode(envelope_for("test.NeverRegistered", 1, {}))


def test_decode_newer_version_than_class() -> None:
    data = notice_registered().model_dump(mode="json")
    with pytest.raises(UnknownEvent, match="newer"):
        decode(envelope_for("intake.NoticeRegistered", 3, data))


def test_notice_registered_v1_is_read_as_v2() -> None:
    """A v1 payload from before recipients could lack an ID number decodes unchanged, new fields empty."""
    original = notice_registered()
    data = original.model_dump(mode="json", exclude={"earlier_case_numbers"})
    for recipient in data["recipients"]:
        for field in ("party", "expired_candidates", "consent", "contacts"):
            del recipient[field]
    decoded = decode(envelope_for("intake.NoticeRegistered", 1, data))
    v1_fields_only = [r.model_copy(update={"party": None, "expired_candidates": [], "consent": [], "contacts": []}) for r in original.recipients]
    assert decoded == original.model_copy(update={"recipients": v1_fields_only})
    assert decoded.recipients[0].candidates[0].text == "山东省威海市环翠区新威路17号"


def test_decode_ignores_unknown_fields() -> None:
    original = notice_registered()
    data = original.model_dump(mode="json")
    data["added_later"] = {"by": "a newer producer"}
    data["recipients"][0]["nickname"] = "三儿"
    decoded = decode(envelope_for("intake.NoticeRegistered", 1, data))
    assert decoded == original
    assert not hasattr(decoded, "added_later")


# Upcasters


@pytest.mark.parametrize(
    ("version", "data"),
    [
        (1, {"label": "spanner"}),
        (2, {"name": "spanner"}),
        (3, {"name": "spanner", "size": 0}),
    ],
)
def test_upcasters_lift_old_versions(version: int, data: dict[str, Any]) -> None:
    decoded = decode(envelope_for("test.RegistryWidget", version, data))
    assert decoded == Widget(name="spanner", size=0)


def test_upcasters_run_in_order_and_only_for_older_versions() -> None:
    # The v3 value of size must survive: a v3 message is not passed through the 2→3 step.
    assert decode(envelope_for("test.RegistryWidget", 3, {"name": "spanner", "size": 7})).size == 7  # type: ignore[attr-defined]


def test_missing_upcaster_step() -> None:
    assert not has_upcaster("test.RegistryGadget", 1)
    assert has_upcaster("test.RegistryGadget", 2)
    with pytest.raises(UnknownEvent, match="no upcaster for test.RegistryGadget v1"):
        decode(envelope_for("test.RegistryGadget", 1, {"name": "g"}))
    assert decode(envelope_for("test.RegistryGadget", 2, {"name": "g"})) == Gadget(name="g", size=0)


def test_register_same_type_twice() -> None:
    name = f"test.Duplicate{uuid.uuid4().hex}"

    @event(name)
    class First(Event):
        pass

    with pytest.raises(ValueError, match="registered twice"):

        @event(name)
        class Second(Event):
            pass

    assert decode(envelope_for(name, 1, {})).__class__ is First


def test_register_same_upcaster_step_twice() -> None:
    name = f"test.DuplicateStep{uuid.uuid4().hex}"
    upcaster(name, from_version=1)(lambda data: data)
    with pytest.raises(ValueError, match="registered twice"):
        upcaster(name, from_version=1)(lambda data: data)
