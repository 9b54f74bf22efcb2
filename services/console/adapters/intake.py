"""Intake's court registry as the console uses it, to name courts where delivery gives their ids: the port, the client and a fake."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from services.console.adapters.calls import ServiceApi, ServiceUnavailable
from services.console.adapters.delivery import Shape
from shared.plumbing.auth import Principal


class Court(Shape):
    """A court Songda serves."""

    id: str
    name: str
    active: bool


class Intake(Protocol):
    """Intake's court registry, called as the signed-in person (anyone may read it)."""

    async def courts(self, caller: Principal) -> list[Court]: ...


@dataclass(frozen=True)
class IntakeClient:
    """Intake over HTTP."""

    api: ServiceApi

    async def courts(self, caller: Principal) -> list[Court]:
        """Returns every registered court."""
        return [Court.model_validate(court) for court in (await self.api.call("GET", "/v1/courts", caller)).json()]


@dataclass
class FakeIntake:
    """Intake's court registry in memory for unit tests."""

    registry: list[Court] = field(default_factory=list)
    down: bool = False

    async def courts(self, caller: Principal) -> list[Court]:
        """Returns the courts a test registered."""
        if self.down:
            raise ServiceUnavailable("intake")
        return list(self.registry)
