"""The state of one recipient's delivery, stored as a JSON document beside a few indexed columns."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shared.contracts.events import Channel, Consent, Exhausted, GeoPoint, Recipient, Review, ServiceMethod, Signature, SignerRole, Tier, Transmission, Witness
from shared.plumbing.clock import SHANGHAI


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RecipientStatus(StrEnum):
    in_progress = "in_progress"
    awaiting_evidence = "awaiting_evidence"
    # Every item of a reported service is recorded and one carries a blocking flag: a supervisor accepts it or orders a new visit.
    held = "held"
    awaiting_publication = "awaiting_publication"
    notice_period = "notice_period"
    served = "served"


class AttemptStatus(StrEnum):
    scheduled = "scheduled"
    open = "open"
    reported = "reported"
    succeeded = "succeeded"
    failed = "failed"
    # Run in parallel and stopped: another channel served first (OLR Art. 32).
    superseded = "superseded"


class Place(Frozen):
    """An address to visit, mail or post at, and whether the party itself confirmed it."""

    text: str
    postcode: str | None = None
    city: str | None = None
    district: str | None = None
    # Where the address is on the map, when intake knows; evidence checks photos taken there against it.
    location: GeoPoint | None = None
    confirmed_by_party: bool = False


class Step(Frozen):
    """One planned attempt: the tier, the channel, and the number, mailbox or place it uses."""

    tier: Tier
    channel: Channel
    target: str | None = None
    place: Place | None = None
    slot: int | None = None
    # The consent an electronic step rests on: whether the address was confirmed decides what serves (OLR Art. 31).
    consent: Consent | None = None


class Attempt(Frozen):
    attempt_id: str
    step: int
    tier: Tier
    channel: Channel
    target: str | None = None
    status: AttemptStatus
    not_before: AwareDatetime | None = None
    started_at: AwareDatetime | None = None
    due_at: AwareDatetime | None = None
    window_start: AwareDatetime | None = None
    window_end: AwareDatetime | None = None
    provider_ref: str | None = None
    arrived_at: AwareDatetime | None = None
    finished_at: AwareDatetime | None = None
    detail: str | None = None
    error_code: int | None = None
    # What a supervisor should know about how it was made, e.g. "reported_before_window"; carried on its AttemptSucceeded/AttemptFailed.
    remarks: list[str] = []
    # The provider's record of an arrival that did not serve by itself, kept for the attempt's success (the e-service certificate).
    record: Transmission | None = None
    # An accepted e-mail waits until then for a bounce; none came, it serves as of its arrival.
    bounce_wait_until: AwareDatetime | None = None


class Claim(Frozen):
    """A reported service waiting for its photo or video evidence to be recorded unflagged, or for a supervisor to accept it flagged."""

    attempt_id: str
    method: ServiceMethod
    event_day: date
    at: AwareDatetime
    signature: Signature | None = None
    witness: Witness | None = None
    evidence_ids: list[str]
    checked: dict[str, list[str]] = {}
    # Each recorded item's kind, to tell whether a service's evidence carries the signature (CPL 87, 88).
    kinds: dict[str, str] = {}
    review: Review | None = None


class Served(Frozen):
    """How, when and on what basis the recipient counts as served."""

    attempt_id: str | None
    method: ServiceMethod
    channel: Channel
    target: str | None
    service_date: date
    basis: str
    deemed: bool
    # Why the law deems it made (law.DEEMED_REASONS), for the report; None for an actual service.
    deemed_reason: str | None = None
    served_at: AwareDatetime | None = None
    signer_name: str | None = None
    signer_role: SignerRole | None = None
    relation: str | None = None
    witness: Witness | None = None
    evidence_ids: list[str] = []
    review: Review | None = None
    # OLR Art. 31(2): served on a read report only, unless the recipient proves otherwise.
    presumed: bool = False
    consent: Consent | None = None


class Case(Frozen):
    """What of the notice delivery needs to book mail and word messages."""

    notice_id: str
    court_id: str
    court_name: str
    case_number: str
    documents: list[str]


class RecipientState(Frozen):
    """One recipient's delivery: the plan, where it stands, every attempt, and the outcome."""

    case: Case
    recipient: Recipient
    plan: list[Step]
    cursor: int = 0
    attempts: list[Attempt] = []
    status: RecipientStatus = RecipientStatus.in_progress
    unusable: list[str] = []
    claim: Claim | None = None
    mail_refused: bool = False
    served: Served | None = None
    period_ends: date | None = None
    exhausted: list[Exhausted] = []
    # The electronic steps running at once (OLR Art. 32), the cursor on the last of them; empty when one step runs at a time.
    parallel: list[int] = []

    @property
    def step(self) -> Step:
        return self.plan[self.cursor]

    @property
    def current(self) -> Attempt | None:
        """The latest attempt, if it belongs to the current step."""
        if self.attempts and self.attempts[-1].step == self.cursor:
            return self.attempts[-1]
        return None

    def attempt(self, attempt_id: str) -> Attempt | None:
        return next((a for a in self.attempts if a.attempt_id == attempt_id), None)

    def running(self) -> list[Attempt]:
        """The parallel attempts not yet finished, scheduled or open."""
        return [a for a in self.attempts if a.step in self.parallel and a.status in (AttemptStatus.scheduled, AttemptStatus.open)]

    def live(self, attempt_id: str) -> Attempt | None:
        """The attempt an input names, if the input may still change it: the current one, or a parallel one still running."""
        if self.parallel:
            return next((a for a in self.running() if a.attempt_id == attempt_id), None)
        current = self.current
        return current if current is not None and current.attempt_id == attempt_id else None


def wake_at(state: RecipientState) -> datetime | None:
    """When the sweeper must look at this recipient again: a due time, a retry, or the end of a notice period."""
    if state.status is RecipientStatus.notice_period and state.period_ends is not None:
        # The period ends as the service date begins: midnight, Beijing time.
        return datetime.combine(state.period_ends, time.min, SHANGHAI)
    if state.parallel and state.status is RecipientStatus.in_progress:
        times = [_due(a) for a in state.running()]
        return min((t for t in times if t is not None), default=None)
    current = state.current
    if current is None or state.status is not RecipientStatus.in_progress:
        return None
    return _due(current)


def _due(attempt: Attempt) -> datetime | None:
    """When an unfinished attempt needs looking at: a scheduled one when it may start, an open one when it is due."""
    if attempt.status is AttemptStatus.scheduled:
        return attempt.not_before
    if attempt.status is AttemptStatus.open:
        return attempt.due_at
    return None
