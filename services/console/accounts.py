"""Who may be a console user: the roles people sign in as, what each role's scope is, and what a username and password must be."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.contracts.values import validate_uscc
from shared.plumbing.auth import Role

# The people who sign in; `service` is for the services themselves, never a person.
PEOPLE = (Role.court, Role.agent, Role.supervisor, Role.lawyer, Role.auditor)
USERNAME = r"^[a-z0-9][a-z0-9._-]{1,63}$"
MIN_PASSWORD = 10
# What a scope looks like per role (a lawyer's is a USCC, checked by its check character).
SCOPES: dict[Role, str] = {Role.court: r"^[A-Z0-9]{2,16}$", Role.agent: r"^[A-Za-z0-9._-]{1,64}$"}


class NewUser(BaseModel):
    """A user to add: the scope is the token subject the services know the person by."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=USERNAME)
    role: Role
    scope: str = Field(default="", max_length=64)
    display_name: str = Field(default="", max_length=100)
    password: str = Field(min_length=MIN_PASSWORD, max_length=256)

    @model_validator(mode="after")
    def _scope_fits_the_role(self) -> NewUser:
        if self.role not in PEOPLE:
            raise ValueError(f"role: people sign in as {', '.join(r.value for r in PEOPLE)}")
        if self.role in (Role.supervisor, Role.auditor):
            if self.scope not in ("", self.username):
                raise ValueError("scope: a supervisor's or auditor's scope is their username")
            self.scope = self.username
        elif self.role is Role.lawyer:
            try:
                self.scope = validate_uscc(self.scope)
            except ValueError as exc:
                raise ValueError(f"scope: a lawyer's scope is the firm's USCC: {exc}") from None
        elif not re.fullmatch(SCOPES[self.role], self.scope):
            raise ValueError(f"scope: a {self.role.value}'s scope is its {'court id (C371002)' if self.role is Role.court else 'agent id'}")
        self.display_name = self.display_name.strip() or self.username
        return self
