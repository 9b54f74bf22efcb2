"""What delivery's handlers are given: database and clock, the workflow setup, the telephony and mail ports, and the Twilio token that signs callbacks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from services.delivery.adapters.mail import Mailer
from services.delivery.adapters.twilio import Telephony
from services.delivery.workflow import Setup
from shared.plumbing.runtime import Deps, get_deps


@dataclass(frozen=True)
class DeliveryDeps(Deps):
    setup: Setup
    telephony: Telephony
    mailer: Mailer
    # The From of every e-mail, which the report states as the sender.
    sender_address: str
    twilio_auth_token: str


DepsDep = Annotated[DeliveryDeps, Depends(get_deps)]
