"""What delivery's handlers are given: database and clock, the workflow setup, the telephony and mail ports, the Twilio token that signs callbacks, the document store and the secret bounces are signed with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from services.delivery.adapters.mail import Mailer
from services.delivery.adapters.twilio import Telephony
from services.delivery.workflow import Setup
from shared.plumbing.documents import DocumentStore
from shared.plumbing.runtime import Deps, get_deps
from shared.plumbing.settings import DEV_MAIL_DSN_SECRET


@dataclass(frozen=True)
class DeliveryDeps(Deps):
    setup: Setup
    telephony: Telephony
    mailer: Mailer
    # The From of every e-mail, which the report states as the sender.
    sender_address: str
    twilio_auth_token: str
    # The courts' documents, which intake wrote: read here, by sha256, for the e-delivery page and the agent's print-out.
    documents: DocumentStore
    # Signs the bounces the mail server's pipe posts; the development default is refused in production (config.py).
    mail_dsn_secret: str = DEV_MAIL_DSN_SECRET


DepsDep = Annotated[DeliveryDeps, Depends(get_deps)]
