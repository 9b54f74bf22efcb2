"""Intake's firm registry as the console uses it: the firms, one firm, registering or replacing one; the port, the client and a fake."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from services.console.adapters.calls import ServiceApi, ServiceRefused, ServiceUnavailable, segment
from services.console.adapters.delivery import Shape
from shared.plumbing.auth import Principal, Role


class Agreement(Shape):
    """The signed agreement as evidence filed it."""

    evidence_id: str
    sha256: str


class Firm(Shape):
    """A registered law firm: where it is served, its agreement, the courts it covers and for how long."""

    uscc: str
    name: str
    email: str
    inbox: bool
    agreement: Agreement
    court_ids: list[str]
    valid_from: date
    valid_to: date

    def state_on(self, day: date) -> str:
        """Says whether the agreement is in force on the day: before, in force, or after."""
        return "pending" if day < self.valid_from else "expired" if day > self.valid_to else "valid"


class Firms(Protocol):
    """Intake's firm registry, called as the signed-in person."""

    async def firms(self, caller: Principal) -> list[Firm]: ...

    async def firm(self, caller: Principal, uscc: str) -> Firm: ...

    async def put(self, caller: Principal, uscc: str, body: Mapping[str, Any]) -> Firm: ...


@dataclass(frozen=True)
class FirmsClient:
    """Intake's firm registry over HTTP."""

    api: ServiceApi

    async def firms(self, caller: Principal) -> list[Firm]:
        """Returns the firms the caller reads, by name."""
        return [Firm.model_validate(firm) for firm in (await self.api.call("GET", "/v1/firms", caller)).json()]

    async def firm(self, caller: Principal, uscc: str) -> Firm:
        """Returns one firm (404 for one the caller does not read)."""
        return Firm.model_validate((await self.api.call("GET", f"/v1/firms/{segment(uscc)}", caller)).json())

    async def put(self, caller: Principal, uscc: str, body: Mapping[str, Any]) -> Firm:
        """Registers a firm or replaces its entry (422 naming each field intake refuses)."""
        return Firm.model_validate((await self.api.call("PUT", f"/v1/firms/{segment(uscc)}", caller, json=dict(body))).json())


@dataclass
class FakeFirms:
    """The registry in memory for unit tests: supervisors write, the refusal a test sets answers the next write once."""

    registry: dict[str, Firm] = field(default_factory=dict)
    written: list[tuple[Principal, str, dict[str, Any]]] = field(default_factory=list)
    refusal: ServiceRefused | None = None
    down: bool = False

    def _up(self) -> None:
        if self.down:
            raise ServiceUnavailable("intake")

    async def firms(self, caller: Principal) -> list[Firm]:
        """Returns the registered firms by name."""
        self._up()
        return sorted(self.registry.values(), key=lambda f: f.name)

    async def firm(self, caller: Principal, uscc: str) -> Firm:
        """Returns a firm, or 404."""
        self._up()
        if uscc not in self.registry:
            raise ServiceRefused(404, {"title": "Not found", "detail": f"No firm {uscc}."})
        return self.registry[uscc]

    async def put(self, caller: Principal, uscc: str, body: Mapping[str, Any]) -> Firm:
        """Keeps the entry for a supervisor, or answers the refusal set by the test."""
        self._up()
        if caller.role is not Role.supervisor:
            raise ServiceRefused(403, {"title": "Forbidden", "detail": f"The role {caller.role.value!r} may not do this."})
        if self.refusal is not None:
            refusal, self.refusal = self.refusal, None
            raise refusal
        self.written.append((caller, uscc, dict(body)))
        self.registry[uscc] = Firm.model_validate({**body, "uscc": uscc, "updated_at": datetime.now(UTC)})
        return self.registry[uscc]
