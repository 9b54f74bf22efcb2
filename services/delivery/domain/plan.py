"""The plan per recipient, visit windows on the working calendar, and who gets a task."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from services.delivery.domain.state import Place, Step
from services.delivery.policy import Agent, Assignment, Policy, VisitSlot
from shared.contracts.events import AddressSource, CandidateAddress, Channel, EDeliveryChannel, Recipient, Tier
from shared.contracts.values import Phone
from shared.plumbing.clock import SHANGHAI
from shared.plumbing.workdays import add_working_days, end_of_working_day, is_working_day, note_uncovered

TIER_ORDER: dict[Tier, int] = {tier: n for n, tier in enumerate(Tier)}


def place_of(candidate: CandidateAddress) -> Place:
    """The place to use for a ranked candidate; only a confirmation by the party lets a return count as service."""
    return Place(
        text=candidate.text,
        postcode=candidate.postcode,
        city=candidate.city,
        district=candidate.district,
        location=candidate.location,
        confirmed_by_party=any(p.kind is AddressSource.confirmation for p in candidate.provenance),
    )


def _phone(value: str) -> Phone | None:
    try:
        return Phone.parse(value)
    except ValueError:
        return None


def electronic_steps(recipient: Recipient, *, call_unconsented: bool) -> list[Step]:
    """E-service only where the party consented (CPL 90): the lawyer's firm, SMS to mobiles, e-mail; then calls."""
    steps: list[Step] = []
    # One step per consented address, carrying the first consent given for it.
    consents = sorted({(c.channel, c.address): c for c in reversed(recipient.consent)}.items())
    if recipient.lawyer is not None:
        steps += [Step(tier=Tier.electronic, channel=Channel.lawyer_firm, target=a, consent=c) for (ch, a), c in consents if ch is EDeliveryChannel.lawyer_firm]
    called: set[str] = set()
    for (channel, address), consent in consents:
        phone = _phone(address) if channel is EDeliveryChannel.sms else None
        if phone is not None and phone.can_receive_sms:
            steps.append(Step(tier=Tier.electronic, channel=Channel.sms, target=phone.e164, consent=consent))
            called.add(phone.e164)
    steps += [Step(tier=Tier.electronic, channel=Channel.email, target=a, consent=c) for (ch, a), c in consents if ch is EDeliveryChannel.email]
    if call_unconsented:
        for phone in recipient.phones:
            if phone.e164 not in called:
                steps.append(Step(tier=Tier.electronic, channel=Channel.voice, target=phone.e164))
                called.add(phone.e164)
    return steps


def physical_steps(place: Place, *, visits: int) -> list[Step]:
    """Visits at varied times, then court mail, then a posting at the same place."""
    return [
        *(Step(tier=Tier.direct, channel=Channel.visit, place=place, slot=n) for n in range(visits)),
        Step(tier=Tier.postal, channel=Channel.court_mail, place=place),
        Step(tier=Tier.posting, channel=Channel.posting, place=place),
    ]


PUBLIC_NOTICE = Step(tier=Tier.public_notice, channel=Channel.publication)


def plan_for(recipient: Recipient, policy: Policy) -> list[Step]:
    """Electronic → direct → postal → posting → public notice; no visit, mail or posting when whereabouts are unknown (专递 Art. 1)."""
    steps = electronic_steps(recipient, call_unconsented=policy.electronic.call_unconsented_phones)
    if not recipient.whereabouts_unknown and recipient.candidates:
        steps += physical_steps(place_of(recipient.candidates[0]), visits=len(policy.direct.visits))
    return [*steps, PUBLIC_NOTICE]


def _slot_fits(day: date, slot: VisitSlot) -> bool:
    return is_working_day(day) == (slot.days == "working")


def visit_window(slot: VisitSlot, *, after: datetime, not_on: date | None = None) -> tuple[datetime, datetime]:
    """The next window of this kind of visit that is still open after `after` and on another day than `not_on`."""
    local = after.astimezone(SHANGHAI)
    day = local.date()
    for _ in range(370):
        if _slot_fits(day, slot) and day != not_on:
            start = datetime.combine(day, slot.start, SHANGHAI)
            end = datetime.combine(day, slot.end, SHANGHAI)
            if end > local:
                note_uncovered(local.date(), day, "visit_window", slot=slot.label, start=max(start, local), end=end)
                return max(start, local), end
        day += timedelta(days=1)
    raise ValueError(f"no {slot.days} day within a year for visit slot {slot.label}")


def posting_window(now: datetime, policy: Policy) -> tuple[datetime, datetime]:
    """From now to the end of the working day `window_days` later."""
    last = add_working_days(now.astimezone(SHANGHAI).date(), policy.posting.window_days)
    return now, end_of_working_day(last, day_end=policy.working_hours.end)


def choose_agent(agents: Sequence[Agent], *, place: Place, assignment: Assignment, turn: int) -> Agent:
    """The agent for a task: one whose areas name the district (then the city), else the `turn`-th in rotation."""
    if assignment is Assignment.area:
        for area in (place.district, place.city):
            local = [a for a in agents if area and area in a.areas]
            if local:
                return local[turn % len(local)]
    return agents[turn % len(agents)]
