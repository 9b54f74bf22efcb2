"""Intake's rules: due dates, case stages, who is who across cases, and the legal order of candidate addresses."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import IntEnum
from typing import Any

from shared.contracts.addresses import PostalAddress
from shared.contracts.events import (
    AddressSource,
    CandidateAddress,
    Consent,
    ConsentForm,
    EDeliveryChannel,
    GeoPoint,
    MatchMethod,
    PartyMatch,
    Provenance,
    ServiceMethod,
    Stage,
)
from shared.plumbing.workdays import add_working_days

# The working method's KPI: documents are delivered within three working days of receipt.
DUE_WORKING_DAYS = 3


def due_date(received_on: date, *, court_due: date | None = None) -> date:
    """Returns the court's own due date, or the third working day after receipt (day of receipt not counted, CPL 85)."""
    return court_due or add_working_days(received_on, DUE_WORKING_DAYS)


def fingerprint(payload: dict[str, Any]) -> str:
    """Hashes a normalised notice so a resubmission can be told from a conflicting one."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


# --- Stages of one case -------------------------------------------------------------------------

# Interp. 137: an address confirmed in first instance holds for appeal, retrial and enforcement of
# the same case, so a confirmation reaches the stages at or after its own in this order.
STAGE_ORDER: dict[Stage, int] = {Stage.first_instance: 1, Stage.appeal: 2, Stage.retrial: 3, Stage.enforcement: 4}

# 《人民法院案件类型及其代字标准》(法〔2015〕137号 annex; verify): the type code of a case number
# names its stage. Codes not listed here (criminal, administrative, preservation…) are not checked.
STAGE_BY_CASE_TYPE: dict[str, Stage] = {
    "民初": Stage.first_instance,
    "民终": Stage.appeal,
    "民再": Stage.retrial,
    "民申": Stage.retrial,
    "民监": Stage.retrial,
    "商初": Stage.first_instance,
    "商终": Stage.appeal,
    "知民初": Stage.first_instance,
    "知民终": Stage.appeal,
    "执": Stage.enforcement,
    "执恢": Stage.enforcement,
    "执异": Stage.enforcement,
    "执复": Stage.enforcement,
}


def stage_mismatch(case_type: str, stage: Stage) -> Stage | None:
    """Returns the stage a case type code implies when it contradicts the stage given, else None."""
    implied = STAGE_BY_CASE_TYPE.get(case_type)
    return implied if implied is not None and implied is not stage else None


def confirmation_reaches(confirmed_stage: Stage, notice_stage: Stage) -> bool:
    """Tells whether a confirmation made at one stage holds for a notice at another stage of the same case (Interp. 137)."""
    return STAGE_ORDER[confirmed_stage] <= STAGE_ORDER[notice_stage]


# --- Who is who across cases --------------------------------------------------------------------


def name_key(name: str) -> str:
    """Returns a name with full-width characters and spacing normalised, for comparing spellings."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


@dataclass(frozen=True, slots=True)
class KnownParty:
    """A party in the address book as identity matching sees it."""

    party_id: str
    name: str
    id_type: str | None
    id_number: str | None
    phones: frozenset[str] = frozenset()


def match_party(*, name: str, id_number: str | None, phones: Iterable[str], by_id: KnownParty | None, by_name: Sequence[KnownParty]) -> PartyMatch:
    """Decides which known party a recipient is: the ID number exactly, else name + a shared phone, never two ID numbers merged."""
    if id_number:
        if by_id is None:
            return PartyMatch(party_id=None, method=MatchMethod.new, matched_on=[], note="no party with this ID number is known")
        note = "same ID number" if name_key(by_id.name) == name_key(name) else f"same ID number; name on file is spelt {by_id.name}"
        return PartyMatch(party_id=by_id.party_id, method=MatchMethod.id_number, matched_on=["id_number"], note=note)
    wanted = set(phones)
    hits = [p for p in by_name if name_key(p.name) == name_key(name) and p.phones & wanted]
    ids = {p.id_number for p in hits if p.id_number}
    if not hits:
        return PartyMatch(party_id=None, method=MatchMethod.new, matched_on=[], note="no ID number on the notice and no known party with this name and phone")
    if len(hits) > 1:
        # Several parties share the name and a phone: choosing one could serve the wrong person.
        detail = f"{len(ids)} different ID numbers" if len(ids) > 1 else f"{len(hits)} parties"
        return PartyMatch(party_id=None, method=MatchMethod.ambiguous, matched_on=["name", "phone"], note=f"name and phone match {detail}; not merged")
    return PartyMatch(
        party_id=hits[0].party_id,
        method=MatchMethod.name_phone,
        matched_on=["name", "phone"],
        note="the notice has no ID number; matched on name and a shared phone number",
    )


# --- The legal order of candidate addresses -----------------------------------------------------


class Rank(IntEnum):
    """Ranks of a candidate address, best first."""

    confirmation = 1  # Interp. 137: a confirmation in this case or an earlier stage of it.
    contract = 2  # 法发〔2017〕19号 Art. 8(1): the address agreed in the contract.
    filing = 3  # Art. 8(2): addresses in the party's own filings in this case.
    other_case = 4  # Art. 8(3): given in other litigation or arbitration within one year.
    civil_activity = 5  # Art. 8(4): used in civil activities (or worked for delivery) within one year.
    household = 6  # Art. 9: household registration or registered address.


# The legal basis a candidate is ranked on, as the report states it.
RANK_BASIS: dict[Rank, str] = {
    Rank.confirmation: "民诉法解释第137条",
    Rank.contract: "法发〔2017〕19号第8条第1项",
    Rank.filing: "法发〔2017〕19号第8条第2项",
    Rank.other_case: "法发〔2017〕19号第8条第3项",
    Rank.civil_activity: "法发〔2017〕19号第8条第4项",
    Rank.household: "法发〔2017〕19号第9条",
}

# Art. 8(3) and 8(4) count only what happened "within one year"; other tiers do not age.
WINDOWED: frozenset[Rank] = frozenset({Rank.other_case, Rank.civil_activity})


def one_year_after(day: date) -> date:
    """Returns the same calendar day a year later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def within_one_year(observed_on: date, today: date) -> bool:
    """Tells whether `observed_on` lies within one year before `today`, the anniversary itself included."""
    return observed_on <= today <= one_year_after(observed_on)


@dataclass(frozen=True, slots=True)
class CaseScope:
    """The notice a ranking is for: its case with earlier stages, and its stage."""

    case_keys: frozenset[str]
    stage: Stage | None


@dataclass(frozen=True, slots=True)
class AddressFact:
    """One thing the address book or the notice says about where the party can be reached."""

    address: PostalAddress
    source: AddressSource
    postcode: str | None = None
    location: GeoPoint | None = None
    case_key: str | None = None
    case_number: str | None = None
    stage: Stage | None = None
    observed_on: date | None = None
    e_delivery_consent: bool = False
    on_notice: bool = False


def tier_of(fact: AddressFact, scope: CaseScope) -> Rank:
    """Places one fact in the legal order, given the notice it is ranked for."""
    in_this_case = fact.on_notice or (fact.case_key is not None and fact.case_key in scope.case_keys)
    if fact.source is AddressSource.confirmation:
        reaches = scope.stage is None or fact.stage is None or confirmation_reaches(fact.stage, scope.stage)
        return Rank.confirmation if in_this_case and reaches else Rank.other_case
    if fact.source is AddressSource.filing:
        return Rank.filing if in_this_case else Rank.other_case
    if fact.source is AddressSource.contract:
        # The agreed address binds the dispute of that contract; elsewhere it is an address the party
        # used in a civil activity.
        return Rank.contract if in_this_case else Rank.civil_activity
    return {
        AddressSource.other_case: Rank.other_case,
        AddressSource.civil_activity: Rank.civil_activity,
        AddressSource.delivery: Rank.civil_activity,
        AddressSource.household: Rank.household,
    }[fact.source]


def is_expired(fact: AddressFact, tier: Rank, today: date) -> bool:
    """Tells whether a fact has aged out of its one-year window (Art. 8(3)/(4)); undated facts in a window count as expired."""
    if tier not in WINDOWED or fact.on_notice:
        return False
    return fact.observed_on is None or not within_one_year(fact.observed_on, today)


@dataclass(slots=True)
class _Candidate:
    key: str
    facts: list[tuple[AddressFact, Rank, bool]] = field(default_factory=list)

    def best(self) -> tuple[Rank, int] | None:
        live = [(tier, -(fact.observed_on or date.min).toordinal()) for fact, tier, expired in self.facts if not expired]
        return min(live) if live else None


def rank_addresses(facts: Iterable[AddressFact], *, scope: CaseScope, today: date) -> tuple[list[CandidateAddress], list[CandidateAddress]]:
    """Returns (ranked, expired) candidates: one per place, best tier first, most recent first within a tier."""
    merged: dict[str, _Candidate] = {}
    for fact in facts:
        tier = tier_of(fact, scope)
        merged.setdefault(fact.address.key, _Candidate(fact.address.key)).facts.append((fact, tier, is_expired(fact, tier, today)))
    live = sorted((c for c in merged.values() if c.best() is not None), key=lambda c: (c.best(), c.key))
    expired = sorted((c for c in merged.values() if c.best() is None), key=lambda c: c.key)
    return [_candidate(c, rank) for rank, c in enumerate(live, start=1)], [_candidate(c, rank) for rank, c in enumerate(expired, start=1)]


def _candidate(candidate: _Candidate, rank: int) -> CandidateAddress:
    facts = sorted(candidate.facts, key=lambda f: (f[2], f[1], -(f[0].observed_on or date.min).toordinal()))
    # The fullest spelling is shown; the others are the same place written more briefly.
    display = max((f.address for f, _, _ in facts), key=lambda a: (a.province is not None, len(a.text)))
    return CandidateAddress(
        text=display.text,
        postcode=next((f.postcode for f, _, _ in facts if f.postcode), None),
        location=next((f.location for f, _, _ in facts if f.location), None),
        rank=rank,
        province=display.province,
        city=display.city,
        district=display.district,
        provenance=[provenance_of(fact, tier=tier, expired=expired) for fact, tier, expired in facts],
    )


def provenance_of(fact: AddressFact, *, tier: Rank, expired: bool) -> Provenance:
    """Says where a candidate address comes from and on which article it ranks."""
    return Provenance(
        kind=fact.source,
        source_case=fact.case_number,
        confirmed_on=fact.observed_on,
        e_delivery_consent=fact.e_delivery_consent,
        stage=fact.stage,
        basis=RANK_BASIS[tier],
        expired=expired,
    )


# --- Confirmations: the later one for the same party and case supersedes ------------------------


@dataclass(frozen=True, slots=True)
class ConfirmationFact:
    """A 送达地址确认书 as ranking and supersession see it."""

    confirmation_id: str
    case_key: str
    confirmed_on: date
    recorded_at: datetime
    address: AddressFact
    consent: tuple[Consent, ...] = ()


def current_confirmations(confirmations: Iterable[ConfirmationFact]) -> dict[str, ConfirmationFact]:
    """Returns the confirmation in force per case: a change must be in writing, so the latest written one wins."""
    current: dict[str, ConfirmationFact] = {}
    for c in confirmations:
        held = current.get(c.case_key)
        if held is None or (c.confirmed_on, c.recorded_at, c.confirmation_id) > (held.confirmed_on, held.recorded_at, held.confirmation_id):
            current[c.case_key] = c
    return current


def consent_for(confirmations: Iterable[ConfirmationFact], scope: CaseScope) -> list[Consent]:
    """Returns the electronic channels consented to (CPL 90) in the confirmations in force for this case."""
    in_force = current_confirmations(confirmations)
    seen: dict[tuple[str, str], Consent] = {}
    for c in sorted(in_force.values(), key=lambda c: c.confirmed_on, reverse=True):
        if c.case_key in scope.case_keys:
            for consent in c.consent:
                seen.setdefault((consent.channel, consent.address), consent)
    return list(seen.values())


# --- What a successful service teaches the address book -----------------------------------------

# An address "worked" only when service there actually reached the party: a refusal at the door
# proves the party lives there (CPL 89); a deemed postal service on return proves nothing.
_ADDRESS_PROVEN: dict[ServiceMethod, bool] = {
    ServiceMethod.direct: True,
    ServiceMethod.refusal: True,
    ServiceMethod.postal: True,
    ServiceMethod.posting: False,
    ServiceMethod.public_notice: False,
    ServiceMethod.electronic: False,
}


def learns_address(method: ServiceMethod, *, deemed: bool) -> bool:
    """Tells whether a service proves the address it used."""
    return _ADDRESS_PROVEN[method] and (not deemed or method is ServiceMethod.refusal)


def learns_contact(method: ServiceMethod, *, deemed: bool) -> bool:
    """Tells whether a service proves the phone or e-mail it used (electronic arrival, CPL 90)."""
    return method is ServiceMethod.electronic and not deemed


# --- Forms of consent to electronic service (OLR Art. 29) ----------------------------------------


@dataclass(frozen=True, slots=True)
class FormRule:
    """What a form of consent must show: whether it names its document, and whether the party itself gave the address."""

    needs_source: bool
    own_address: bool


# OLR Art. 29: (1) express consent, in the confirmation itself; (2) agreed or undertaken before the litigation, in a
# contract or a firm's agreement, which the consent names; (3) an address the party gave for service in its own
# filing, so the party provided it (Art. 31(1)); (4) accepting an earlier e-service, named by that service.
FORM_RULES: dict[ConsentForm, FormRule] = {
    ConsentForm.express: FormRule(needs_source=False, own_address=False),
    ConsentForm.pre_agreed: FormRule(needs_source=True, own_address=False),
    ConsentForm.own_filing: FormRule(needs_source=True, own_address=True),
    ConsentForm.accepted_earlier: FormRule(needs_source=True, own_address=False),
}


def consent_form_error(form: ConsentForm, *, source: str | None, address_confirmed: bool) -> tuple[str, str] | None:
    """Returns (field, reason) when a consent does not show what its form needs, else None."""
    rule = FORM_RULES[form]
    if rule.needs_source and not source:
        return "source", f"a {form} consent names the document it rests on"
    if rule.own_address and not address_confirmed:
        return "address_confirmed", f"an address the party gave in its own filing is one it provided (OLR Art. 31(1)); address_confirmed cannot be false for {form}"
    return None


# --- Service through a law firm's standing agreement (OLR Art. 29(2); CPL 88) -----------------------


@dataclass(frozen=True, slots=True)
class FirmAgreement:
    """A registered firm's agreement with courts as the rule needs it."""

    uscc: str
    name: str
    email: str
    court_ids: frozenset[str]
    valid_from: date
    valid_to: date
    evidence_id: str


def covering_agreement(agreements: dict[str, FirmAgreement], *, firm_uscc: str | None, court_id: str, on: date) -> FirmAgreement | None:
    """Returns the agreement of the recipient's lawyer's firm that is in force on the day (both ends included) and covers the court, else None."""
    agreement = agreements.get(firm_uscc) if firm_uscc else None
    if agreement is None or court_id not in agreement.court_ids:
        return None
    return agreement if agreement.valid_from <= on <= agreement.valid_to else None


def firm_consent(agreement: FirmAgreement, *, court_name: str, case_number: str) -> Consent:
    """Returns the pre-agreed consent to serve the represented party through its lawyer's firm (the lawyer is its litigation agent, CPL 88)."""
    source = f"{agreement.name}与{court_name}的电子送达协议（有效期 {agreement.valid_from} 至 {agreement.valid_to}，协议存证 {agreement.evidence_id[:8]}）"
    return Consent(
        channel=EDeliveryChannel.lawyer_firm,
        address=agreement.email,
        source_case=case_number,
        confirmed_on=agreement.valid_from,
        form=ConsentForm.pre_agreed,
        source=source,
        address_confirmed=True,
    )
