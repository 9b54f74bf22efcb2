"""The messages the sink holds in memory, newest last, at most `keep` of them."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from simulators.mail_sink.received import ReceivedMail, parse


class Mailbox:
    """Received messages by id; the oldest go once there are more than `keep`."""

    def __init__(self, *, keep: int) -> None:
        self._keep = keep
        self._messages: dict[str, ReceivedMail] = {}
        self._last_number = 0
        # The SMTP server runs on aiosmtpd's own thread while the web pages read on the app's.
        self._lock = threading.Lock()

    def receive(self, raw: bytes, *, recipients: Sequence[str], at: datetime) -> ReceivedMail:
        """Keeps a message under the next id and returns it."""
        with self._lock:
            # Ids keep counting after a clear, so a page left open never shows another message.
            self._last_number += 1
            mail = parse(raw, mail_id=str(self._last_number), recipients=recipients, received_at=at)
            self._messages[mail.id] = mail
            while len(self._messages) > self._keep:
                del self._messages[next(iter(self._messages))]
        return mail

    def newest_first(self) -> list[ReceivedMail]:
        """Returns every message kept, newest first."""
        with self._lock:
            return list(reversed(self._messages.values()))

    def get(self, mail_id: str) -> ReceivedMail | None:
        """Returns one message, or None when it is unknown or forgotten."""
        with self._lock:
            return self._messages.get(mail_id)

    def clear(self) -> int:
        """Forgets every message and returns how many there were."""
        with self._lock:
            count = len(self._messages)
            self._messages.clear()
        return count


async def get_mailbox(request: Request) -> Mailbox:
    """Returns the running sink's mailbox."""
    return request.app.state.mailbox


MailboxDep = Annotated[Mailbox, Depends(get_mailbox)]
