"""What delivery's routes share: the workflow setup and the Twilio token that signs callbacks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.delivery.workflow import Setup


@dataclass(frozen=True)
class DeliveryDeps:
    setup: Setup
    twilio_auth_token: str


def get_deps(request: Request) -> DeliveryDeps:
    """Returns the running delivery service's shared parts."""
    return request.app.state.delivery


Deps = Annotated[DeliveryDeps, Depends(get_deps)]
