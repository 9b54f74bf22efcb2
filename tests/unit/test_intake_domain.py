"""Intake's rules, table by table: ranking order, the one-year window, stages, supersession, identity, learning."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.intake import domain
from services.intake.domain import AddressFact, CaseScope, ConfirmationFact, KnownParty, Rank
from shared.contracts.addresses import PostalAddress
from shared.contracts.events import AddressSource, Consent, EDeliveryChannel, MatchMethod, ServiceMethod, Stage

TODAY = date(2026, 11, 23)
THIS_CASE = "2026|鲁1002|民初|999"
APPEAL = "2026|鲁10|民终|12"
OTHER_CASE = "2025|鲁1002|民初|5"
SCOPE = CaseScope(case_keys=frozenset({THIS_CASE}), stage=Stage.first_instance)


def fact(text: str, source: AddressSource, *, case: str | None = None, stage: Stage | None = None, on: date | None = None, on_notice: bool = False) -> AddressFact:
    return AddressFact(address=PostalAddress.parse(text), source=source, case_key=case, case_number=case, stage=stage, observed_on=on, on_notice=on_notice)


RECENT = TODAY - timedelta(days=30)
# One fact per rung of the ladder, deliberately listed worst first.
LADDER = [
    ("household", fact("山东省威海市环翠区户籍路1号", AddressSource.household)),
    ("civil_activity", fact("山东省威海市环翠区民事路2号", AddressSource.civil_activity, on=RECENT - timedelta(days=10))),
    ("delivery", fact("山东省威海市环翠区送达路3号", AddressSource.delivery, on=RECENT)),
    ("other_case", fact("山东省威海市环翠区他案路4号", AddressSource.confirmation, case=OTHER_CASE, stage=Stage.first_instance, on=RECENT)),
    ("filing", fact("山东省威海市环翠区诉状路5号", AddressSource.filing, case=THIS_CASE, on_notice=True)),
    ("contract", fact("山东省威海市环翠区合同路6号", AddressSource.contract, case=THIS_CASE, on_notice=True)),
    ("confirmation", fact("山东省威海市环翠区确认路7号", AddressSource.confirmation, case=THIS_CASE, stage=Stage.first_instance, on=RECENT)),
]


def test_candidates_follow_the_legal_order() -> None:
    ranked, expired = domain.rank_addresses([f for _, f in LADDER], scope=SCOPE, today=TODAY)
    assert [c.text[9:12] for c in ranked] == ["确认路", "合同路", "诉状路", "他案路", "送达路", "民事路", "户籍路"]
    assert [c.provenance[0].basis for c in ranked] == [
        "民诉法解释第137条",
        "法发〔2017〕19号第8条第1项",
        "法发〔2017〕19号第8条第2项",
        "法发〔2017〕19号第8条第3项",
        "法发〔2017〕19号第8条第4项",
        "法发〔2017〕19号第8条第4项",
        "法发〔2017〕19号第9条",
    ]
    assert [c.rank for c in ranked] == list(range(1, 8))
    assert expired == []


@pytest.mark.parametrize(
    ("source", "case", "stage", "on_notice", "tier"),
    [
        (AddressSource.confirmation, THIS_CASE, Stage.first_instance, False, Rank.confirmation),
        (AddressSource.confirmation, OTHER_CASE, Stage.first_instance, False, Rank.other_case),
        (AddressSource.confirmation, THIS_CASE, Stage.appeal, False, Rank.other_case),  # a later stage does not reach back
        (AddressSource.contract, THIS_CASE, None, True, Rank.contract),
        (AddressSource.contract, OTHER_CASE, None, False, Rank.civil_activity),  # another dispute's contract
        (AddressSource.filing, THIS_CASE, None, True, Rank.filing),
        (AddressSource.filing, OTHER_CASE, None, False, Rank.other_case),
        (AddressSource.other_case, OTHER_CASE, None, False, Rank.other_case),
        (AddressSource.civil_activity, None, None, False, Rank.civil_activity),
        (AddressSource.delivery, OTHER_CASE, None, False, Rank.civil_activity),
        (AddressSource.household, None, None, False, Rank.household),
    ],
)
def test_tier_of_each_kind_of_fact(source: AddressSource, case: str | None, stage: Stage | None, on_notice: bool, tier: Rank) -> None:
    assert domain.tier_of(fact("山东省威海市环翠区新威路17号", source, case=case, stage=stage, on=RECENT, on_notice=on_notice), SCOPE) is tier


ANNIVERSARY = date(2025, 11, 23)


@pytest.mark.parametrize(
    ("observed_on", "expired"),
    [
        (ANNIVERSARY + timedelta(days=1), False),  # the day before the year is up
        (ANNIVERSARY, False),  # exactly one year: still within
        (ANNIVERSARY - timedelta(days=1), True),  # the day after the boundary
        (None, True),  # an undated Art. 8(3)/(4) address cannot show it is within the year
    ],
)
@pytest.mark.parametrize("source", [AddressSource.other_case, AddressSource.civil_activity, AddressSource.delivery])
def test_one_year_window(observed_on: date | None, expired: bool, source: AddressSource) -> None:
    ranked, old = domain.rank_addresses([fact("山东省威海市环翠区新威路17号", source, case=OTHER_CASE, on=observed_on)], scope=SCOPE, today=TODAY)
    assert (len(old), len(ranked)) == ((1, 0) if expired else (0, 1))
    listed = (old or ranked)[0]
    assert listed.provenance[0].expired is expired


@pytest.mark.parametrize(
    ("day", "anniversary"),
    [(date(2024, 2, 29), date(2025, 2, 28)), (date(2025, 3, 1), date(2026, 3, 1)), (date(2025, 12, 31), date(2026, 12, 31))],
)
def test_one_year_after(day: date, anniversary: date) -> None:
    assert domain.one_year_after(day) == anniversary


def test_household_and_this_case_never_expire() -> None:
    old = date(2010, 1, 1)
    ranked, expired = domain.rank_addresses(
        [
            fact("山东省威海市环翠区户籍路1号", AddressSource.household, on=old),
            fact("山东省威海市环翠区确认路7号", AddressSource.confirmation, case=THIS_CASE, stage=Stage.first_instance, on=old),
        ],
        scope=SCOPE,
        today=TODAY,
    )
    assert [c.provenance[0].kind for c in ranked] == [AddressSource.confirmation, AddressSource.household]
    assert expired == []


def test_an_expired_other_case_address_still_ranks_on_a_live_provenance() -> None:
    ranked, expired = domain.rank_addresses(
        [
            fact("山东省威海市环翠区新威路17号", AddressSource.confirmation, case=OTHER_CASE, stage=Stage.first_instance, on=date(2023, 1, 1)),
            fact("威海市环翠区新威路１７号", AddressSource.household),
        ],
        scope=SCOPE,
        today=TODAY,
    )
    assert expired == []
    (candidate,) = ranked
    assert candidate.text == "山东省威海市环翠区新威路17号"  # the fuller spelling of the two
    assert [(p.kind, p.expired) for p in candidate.provenance] == [(AddressSource.household, False), (AddressSource.confirmation, True)]
    assert candidate.provenance[0].basis == "法发〔2017〕19号第9条"


def test_one_place_from_two_cases_is_one_candidate_with_both_provenances() -> None:
    ranked, _ = domain.rank_addresses(
        [
            fact("山东省 威海市 环翠区 新威路17号", AddressSource.filing, case=OTHER_CASE, on=RECENT),
            fact("威海市环翠区新威路１７号。", AddressSource.confirmation, case="2026|鲁1002|民初|1", stage=Stage.first_instance, on=RECENT - timedelta(days=5)),
        ],
        scope=SCOPE,
        today=TODAY,
    )
    (candidate,) = ranked
    assert (candidate.province, candidate.city, candidate.district) == ("山东省", "威海市", "环翠区")
    assert sorted(p.source_case for p in candidate.provenance) == ["2025|鲁1002|民初|5", "2026|鲁1002|民初|1"]


def test_within_a_tier_the_most_recent_comes_first() -> None:
    ranked, _ = domain.rank_addresses(
        [
            fact("山东省威海市环翠区旧路1号", AddressSource.civil_activity, on=TODAY - timedelta(days=200)),
            fact("山东省威海市环翠区新路2号", AddressSource.civil_activity, on=TODAY - timedelta(days=2)),
        ],
        scope=SCOPE,
        today=TODAY,
    )
    assert [c.text for c in ranked] == ["山东省威海市环翠区新路2号", "山东省威海市环翠区旧路1号"]


@pytest.mark.parametrize(
    ("confirmed", "notice", "reaches"),
    [
        (Stage.first_instance, Stage.first_instance, True),
        (Stage.first_instance, Stage.appeal, True),
        (Stage.first_instance, Stage.retrial, True),
        (Stage.first_instance, Stage.enforcement, True),
        (Stage.appeal, Stage.enforcement, True),
        (Stage.appeal, Stage.first_instance, False),
        (Stage.enforcement, Stage.appeal, False),
    ],
)
def test_confirmation_carries_over_to_later_stages(confirmed: Stage, notice: Stage, reaches: bool) -> None:
    assert domain.confirmation_reaches(confirmed, notice) is reaches
    scope = CaseScope(case_keys=frozenset({THIS_CASE, APPEAL}), stage=notice)
    tier = domain.tier_of(fact("山东省威海市环翠区确认路7号", AddressSource.confirmation, case=THIS_CASE, stage=confirmed, on=RECENT), scope)
    assert (tier is Rank.confirmation) is reaches


@pytest.mark.parametrize(
    ("case_type", "stage", "implied"),
    [
        ("民初", Stage.first_instance, None),
        ("民初", Stage.appeal, Stage.first_instance),
        ("民终", Stage.appeal, None),
        ("执", Stage.first_instance, Stage.enforcement),
        ("刑初", Stage.appeal, None),
    ],
)
def test_stage_mismatch(case_type: str, stage: Stage, implied: Stage | None) -> None:
    assert domain.stage_mismatch(case_type, stage) is implied


def confirmation(cid: str, *, case: str, on: date, recorded_second: int, consent: tuple[Consent, ...] = ()) -> ConfirmationFact:
    return ConfirmationFact(
        confirmation_id=cid,
        case_key=case,
        confirmed_on=on,
        recorded_at=datetime(2026, 11, 1, 0, 0, recorded_second, tzinfo=UTC),
        address=fact(f"山东省威海市环翠区{cid}路1号", AddressSource.confirmation, case=case, stage=Stage.first_instance, on=on),
        consent=consent,
    )


@pytest.mark.parametrize(
    ("confirmations", "in_force"),
    [
        ([("a", date(2026, 6, 1), 0), ("b", date(2026, 7, 1), 1)], "b"),  # a later change in writing supersedes
        ([("b", date(2026, 7, 1), 0), ("a", date(2026, 6, 1), 1)], "b"),  # an older one recorded late does not
        ([("a", date(2026, 6, 1), 0), ("b", date(2026, 6, 1), 1)], "b"),  # same day: the one recorded last
    ],
)
def test_supersession(confirmations: list[tuple[str, date, int]], in_force: str) -> None:
    facts = [confirmation(cid, case=THIS_CASE, on=on, recorded_second=s) for cid, on, s in confirmations]
    assert domain.current_confirmations(facts)[THIS_CASE].confirmation_id == in_force


def test_confirmations_in_other_cases_are_not_superseded() -> None:
    facts = [confirmation("a", case=THIS_CASE, on=date(2026, 6, 1), recorded_second=0), confirmation("b", case=OTHER_CASE, on=date(2026, 7, 1), recorded_second=1)]
    assert {k: c.confirmation_id for k, c in domain.current_confirmations(facts).items()} == {THIS_CASE: "a", OTHER_CASE: "b"}


def test_consent_comes_only_from_the_confirmation_in_force_for_this_case() -> None:
    sms = Consent(channel=EDeliveryChannel.sms, address="+8613800138000", source_case="x", confirmed_on=date(2026, 6, 1))
    email = Consent(channel=EDeliveryChannel.email, address="a@example.com", source_case="y", confirmed_on=date(2026, 7, 1))
    other = Consent(channel=EDeliveryChannel.email, address="other@example.com", source_case="z", confirmed_on=date(2026, 7, 1))
    facts = [
        confirmation("a", case=THIS_CASE, on=date(2026, 6, 1), recorded_second=0, consent=(sms,)),
        confirmation("b", case=THIS_CASE, on=date(2026, 7, 1), recorded_second=1, consent=(email,)),
        confirmation("c", case=OTHER_CASE, on=date(2026, 7, 1), recorded_second=2, consent=(other,)),
    ]
    assert domain.consent_for(facts, SCOPE) == [email]


ZHANG = KnownParty(party_id="p-zhang", name="张三", id_type="resident_id", id_number="371002198503124210", phones=frozenset({"+8613800138000"}))
ZHANG_OTHER_ID = KnownParty(party_id="p-zhang-2", name="张三", id_type="resident_id", id_number="110101199003074477", phones=frozenset({"+8613800138000"}))
ZHANG_NO_ID = KnownParty(party_id="p-zhang-3", name="张 三", id_type=None, id_number=None, phones=frozenset({"+8613800138000"}))


@pytest.mark.parametrize(
    ("name", "id_number", "by_id", "by_name", "method", "party", "matched_on"),
    [
        ("张三", "371002198503124210", ZHANG, [], MatchMethod.id_number, "p-zhang", ["id_number"]),
        ("張三", "371002198503124210", ZHANG, [], MatchMethod.id_number, "p-zhang", ["id_number"]),  # same ID, another spelling
        ("张三", "110101199003074477", None, [ZHANG], MatchMethod.new, None, []),  # same name, different ID: never merged
        ("张三", None, None, [ZHANG], MatchMethod.name_phone, "p-zhang", ["name", "phone"]),
        ("张 三", None, None, [ZHANG_NO_ID], MatchMethod.name_phone, "p-zhang-3", ["name", "phone"]),
        ("李四", None, None, [ZHANG], MatchMethod.new, None, []),
        ("张三", None, None, [ZHANG, ZHANG_OTHER_ID], MatchMethod.ambiguous, None, ["name", "phone"]),
    ],
)
def test_match_party(name: str, id_number: str | None, by_id: KnownParty | None, by_name: list[KnownParty], method: MatchMethod, party: str | None, matched_on: list[str]) -> None:
    match = domain.match_party(name=name, id_number=id_number, phones=["+8613800138000"], by_id=by_id, by_name=by_name)
    assert (match.method, match.party_id, match.matched_on) == (method, party, matched_on)
    assert match.note


def test_a_match_says_when_the_name_is_spelt_differently() -> None:
    match = domain.match_party(name="張三", id_number=ZHANG.id_number, phones=[], by_id=ZHANG, by_name=[])
    assert "张三" in match.note


@pytest.mark.parametrize(
    ("method", "deemed", "address", "contact"),
    [
        (ServiceMethod.direct, False, True, False),
        (ServiceMethod.refusal, True, True, False),  # the party was found at the door
        (ServiceMethod.postal, False, True, False),
        (ServiceMethod.postal, True, False, False),  # returned and deemed served: nobody was reached
        (ServiceMethod.posting, False, False, False),
        (ServiceMethod.public_notice, True, False, False),
        (ServiceMethod.electronic, False, False, True),
        (ServiceMethod.electronic, True, False, False),
    ],
)
def test_what_a_service_teaches(method: ServiceMethod, deemed: bool, address: bool, contact: bool) -> None:
    assert domain.learns_address(method, deemed=deemed) is address
    assert domain.learns_contact(method, deemed=deemed) is contact
