"""Versioned events: the base class, the registry by type name, and upcasters for old versions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from shared.contracts.envelope import Envelope, wrap

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
E = TypeVar("E", bound="Event")

_EVENTS: dict[str, type[Event]] = {}
_UPCASTERS: dict[tuple[str, int], Upcaster] = {}


class UnknownEvent(LookupError):
    """The envelope names an event type or version this process does not know."""


class Event(BaseModel):
    """A fact that happened (or a command to do something), frozen once built."""

    # Unknown fields are ignored so that an additive change by a producer never breaks a consumer.
    model_config = ConfigDict(frozen=True, extra="ignore")

    type: ClassVar[str]
    version: ClassVar[int]

    def envelope(
        self,
        *,
        source: str,
        subject: str,
        time: datetime,
        correlationid: str,
        causationid: str | None = None,
    ) -> Envelope:
        """Wraps the event for Kafka."""
        return wrap(
            self.model_dump(mode="json"),
            event_type=self.type,
            version=self.version,
            source=source,
            subject=subject,
            time=time,
            correlationid=correlationid,
            causationid=causationid,
        )


class Command(Event):
    """An instruction to one service (imperative: DispatchPostalItem), sent on that service's commands topic, never among events."""


def event(type_name: str, *, version: int = 1) -> Callable[[type[E]], type[E]]:
    """Registers an event class under its type name and current version."""

    def register(cls: type[E]) -> type[E]:
        if type_name in _EVENTS:
            raise ValueError(f"event type {type_name} is registered twice")
        cls.type = type_name
        cls.version = version
        _EVENTS[type_name] = cls
        return cls

    return register


def upcaster(type_name: str, *, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Registers a function lifting `type_name` data from `from_version` to the next version."""

    def register(fn: Upcaster) -> Upcaster:
        if (type_name, from_version) in _UPCASTERS:
            raise ValueError(f"an upcaster for {type_name} v{from_version} is registered twice")
        _UPCASTERS[(type_name, from_version)] = fn
        return fn

    return register


def event_class(type_name: str) -> type[Event]:
    """Returns the registered class for a type name."""
    try:
        return _EVENTS[type_name]
    except KeyError:
        raise UnknownEvent(f"unknown event type {type_name!r}") from None


def registered() -> dict[str, type[Event]]:
    """Returns every registered event class by type name."""
    return dict(_EVENTS)


def has_upcaster(type_name: str, from_version: int) -> bool:
    """Tells whether data of `from_version` can be lifted one step."""
    return (type_name, from_version) in _UPCASTERS


def decode(envelope: Envelope) -> Event:
    """Validates an envelope's data as its event class, upcasting older versions first."""
    cls = event_class(envelope.type)
    data, version = envelope.data, envelope.dataversion
    if version > cls.version:
        raise UnknownEvent(f"{envelope.type} v{version} is newer than this process knows (v{cls.version})")
    while version < cls.version:
        try:
            data = _UPCASTERS[(envelope.type, version)](data)
        except KeyError:
            raise UnknownEvent(f"no upcaster for {envelope.type} v{version}") from None
        version += 1
    return cls.model_validate(data)
