"""What applying an input decides: the new state, the events to publish, the commands to send and the actions to take."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.delivery.domain.state import Place, RecipientState
from shared.contracts.events import Channel
from shared.contracts.registry import Command, Event

# Actions: what the service must do outside the state document.


@dataclass(frozen=True)
class Send:
    """Send a message or place a call for this attempt."""

    attempt_id: str
    channel: Channel
    target: str


@dataclass(frozen=True)
class OpenTask:
    """Give a visit or a posting to the team."""

    attempt_id: str
    kind: Channel
    place: Place
    window_start: datetime
    window_end: datetime


@dataclass(frozen=True)
class CloseTask:
    attempt_id: str


@dataclass(frozen=True)
class Withdraw:
    """Do not send this attempt's message if it has not gone out yet: another channel served first (OLR Art. 32)."""

    attempt_id: str


Action = Send | OpenTask | CloseTask | Withdraw


@dataclass
class Decision:
    """The outcome of one input: the new state, the events to publish, the commands to send, the actions to take."""

    state: RecipientState
    events: list[Event] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.events or self.commands or self.actions)
