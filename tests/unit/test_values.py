from datetime import date, timedelta

import phonenumbers
import pytest
from pydantic import BaseModel, ValidationError

from shared.contracts.values import (
    LineType,
    Phone,
    PhoneNumber,
    ResidentId,
    Uscc,
    cn_mobile_e164,
    e164,
    mask_id_number,
    mask_phone,
    resident_id_check_char,
    uscc_check_char,
    validate_resident_id,
    validate_uscc,
)


def mod11_2(body: str) -> str:
    """ISO 7064 MOD 11-2 written from the standard's own formulation, independent of the module."""
    total = sum(int(digit) * pow(2, 17 - index, 11) for index, digit in enumerate(body))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def gb32100(body: str) -> str:
    """GB 32100-2015 check character written from the standard's own formulation."""
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    total = sum(charset.index(char) * pow(3, index, 31) for index, char in enumerate(body))
    return charset[(31 - total % 31) % 31]


class Contact(BaseModel):
    phones: list[PhoneNumber]


class Party(BaseModel):
    id_number: ResidentId | None = None
    uscc: Uscc | None = None


# Phone


@pytest.mark.parametrize(
    ("raw", "e164", "line_type"),
    [
        ("13800138000", "+8613800138000", LineType.MOBILE),
        ("+86 138 0013 8000", "+8613800138000", LineType.MOBILE),
        ("138-0013-8000", "+8613800138000", LineType.MOBILE),
        ("19912345678", "+8619912345678", LineType.MOBILE),
        ("0631-5201234", "+866315201234", LineType.FIXED_LINE),
        ("010-62345678", "+861062345678", LineType.FIXED_LINE),
        ("+1 415 555 2671", "+14155552671", LineType.FIXED_LINE_OR_MOBILE),
        ("+1 800 555 0100", "+18005550100", LineType.TOLL_FREE),
        ("+44 7911 123456", "+447911123456", LineType.MOBILE),
        ("4008001234", "+864008001234", LineType.OTHER),
    ],
)
def test_phone_parse_valid(raw: str, e164: str, line_type: LineType) -> None:
    phone = Phone.parse(raw)
    assert phone.e164 == e164
    assert phone.line_type is line_type


def test_phone_parse_uses_region_for_national_numbers() -> None:
    assert Phone.parse("(201) 555-0123", region="US").e164 == "+12015550123"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "not a phone number"),
        ("abc", "not a phone number"),
        ("+999 1234567", "not a phone number"),
        ("12345", "not a valid number for its region"),
        ("1380013800", "not a valid number for its region"),
        ("+86138001380001", "not a valid number for its region"),
        ("0631-5201234 ext. 801", "phone extensions are not supported"),
    ],
)
def test_phone_parse_invalid(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        Phone.parse(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("13800138000", True), ("0631-5201234", False), ("+1 415 555 2671", False), ("+1 800 555 0100", False)],
)
def test_can_receive_sms_only_for_mobile(raw: str, expected: bool) -> None:
    assert Phone.parse(raw).can_receive_sms is expected


def test_phone_is_frozen() -> None:
    phone = Phone.parse("13800138000")
    with pytest.raises(ValidationError):
        phone.e164 = "+8613900139000"  # type: ignore[misc]


def test_phone_number_field_accepts_text_dicts_and_phones() -> None:
    mobile = Phone.parse("13800138000")
    contact = Contact(phones=["0631-5201234", {"e164": "+8613900139000", "line_type": "mobile"}, mobile])
    assert contact.phones == [
        Phone(e164="+866315201234", line_type=LineType.FIXED_LINE),
        Phone(e164="+8613900139000", line_type=LineType.MOBILE),
        mobile,
    ]
    assert Contact.model_validate(contact.model_dump()) == contact
    assert Contact.model_validate_json(contact.model_dump_json()) == contact


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("abc", "not a phone number"),
        ("12345", "not a valid number for its region"),
        ({"e164": "13800138000", "line_type": "mobile"}, "not an E.164 number"),
        ({"e164": "+86 138 0013 8000", "line_type": "mobile"}, "not an E.164 number"),
        ({"e164": "+8612345", "line_type": "mobile"}, "not an E.164 number"),
        ({"e164": "+8613800138000", "line_type": "pager"}, "line_type"),
        (12345678901, "Input should be a valid dictionary or instance of Phone"),
    ],
)
def test_phone_number_field_rejects(item: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Contact(phones=[item])


# Resident ID number (GB 11643-1999)


@pytest.mark.parametrize(
    ("first17", "check"),
    [
        ("11010519491231002", "X"),  # the example printed in GB 11643-1999
        ("44052418800101001", "4"),  # the other example printed in GB 11643-1999
        ("37100219850312421", "0"),
    ],
)
def test_resident_id_check_char_published_examples(first17: str, check: str) -> None:
    assert resident_id_check_char(first17) == check


@pytest.mark.parametrize(
    "first17",
    ["11010119900307001", "31011519991231123", "65010220000229456", "81000019000101000", "50010320101010999"],
)
def test_resident_id_check_char_matches_independent_mod11_2(first17: str) -> None:
    assert resident_id_check_char(first17) == mod11_2(first17)


def test_resident_id_check_char_covers_every_check_value() -> None:
    bodies = [f"110101199001010{seq:02d}" for seq in range(100)]
    assert {resident_id_check_char(body) for body in bodies} == set("0123456789X")


@pytest.mark.parametrize("first17", ["1101051949123100", "110105194912310021", "1101051949123100X", "１１０１０５１９４９１２３１００２"])
def test_resident_id_check_char_rejects_bad_bodies(first17: str) -> None:
    with pytest.raises(ValueError, match="expected 17 digits"):
        resident_id_check_char(first17)


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),
        (" 371002198503124210\n", "371002198503124210"),
        ("820000190001010001", "820000190001010001"),
        ("830000200002290015", "830000200002290015"),
    ],
)
def test_validate_resident_id_valid(value: str, normalised: str) -> None:
    body = normalised[:17]
    assert mod11_2(body) == normalised[17], "fixture must carry a correct check character"
    assert validate_resident_id(value) == normalised


def _with_check(body: str) -> str:
    return body + mod11_2(body)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("11010519491231002", "must be 18 characters"),
        ("11010519491231002X1", "must be 18 characters"),
        ("", "must be 18 characters"),
        ("1101051949123100AX", "must be 17 digits followed by a digit or X"),
        ("11010519491231002Y", "must be 17 digits followed by a digit or X"),
        ("１１０１０５１９４９１２３１００２X", "must be 17 digits followed by a digit or X"),
        (_with_check("10010519491231002"), "unknown province code"),
        (_with_check("16010519491231002"), "unknown province code"),
        (_with_check("38010519491231002"), "unknown province code"),
        (_with_check("47010519491231002"), "unknown province code"),
        (_with_check("72010519491231002"), "unknown province code"),
        (_with_check("84010519491231002"), "unknown province code"),
        (_with_check("11010519850230002"), "invalid birth date"),
        (_with_check("11010519851301002"), "invalid birth date"),
        (_with_check("11010500000101002"), "invalid birth date"),
        (_with_check("11010518991231002"), "birth date out of range"),
        ("440524188001010014", "birth date out of range"),
        ("110105194912310021", "check digit does not match; expected X"),
        ("371002198503124211", "check digit does not match; expected 0"),
    ],
)
def test_validate_resident_id_invalid(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_resident_id(value)


def test_validate_resident_id_rejects_birth_date_after_today() -> None:
    tomorrow = (date.today() + timedelta(days=1)).strftime("%Y%m%d")
    today = date.today().strftime("%Y%m%d")
    assert validate_resident_id(_with_check(f"110105{today}001"))
    with pytest.raises(ValueError, match="birth date out of range"):
        validate_resident_id(_with_check(f"110105{tomorrow}001"))


@pytest.mark.parametrize("check", sorted(set("0123456789X") - {"0"}))
def test_validate_resident_id_rejects_every_wrong_check_char(check: str) -> None:
    with pytest.raises(ValueError, match="expected 0"):
        validate_resident_id("37100219850312421" + check)


def test_resident_id_field() -> None:
    assert Party(id_number="11010519491231002x").id_number == "11010519491231002X"
    with pytest.raises(ValidationError, match="check digit does not match"):
        Party(id_number="110105194912310021")


# Unified social credit code (GB 32100-2015)


@pytest.mark.parametrize(
    ("first17", "check"),
    [
        ("91350100M000100Y4", "3"),  # the example printed in GB 32100-2015
        ("91440300192203821", "6"),  # Huawei Technologies Co., Ltd.
        ("91371002MA3C5Y8K0", "3"),
    ],
)
def test_uscc_check_char_published_examples(first17: str, check: str) -> None:
    assert uscc_check_char(first17) == check


@pytest.mark.parametrize(
    "first17",
    ["91110000MA01ABCDE", "12100000400000000", "52370000MJD000000", "Y1440300000000000", "93370100YYYYYYYYY"],
)
def test_uscc_check_char_matches_independent_formula(first17: str) -> None:
    assert uscc_check_char(first17) == gb32100(first17)


def test_uscc_check_char_maps_remainder_zero_to_zero() -> None:
    # All-zero body: weighted sum 0, so 31 - 0 = 31, which the standard maps to "0".
    assert uscc_check_char("0" * 17) == "0"


@pytest.mark.parametrize("first17", ["91350100M000100Y", "91350100M000100Y43", "91350100I000100Y4", "91350100m000100Y4"])
def test_uscc_check_char_rejects_bad_bodies(first17: str) -> None:
    with pytest.raises(ValueError, match="expected 17 characters"):
        uscc_check_char(first17)


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("91350100M000100Y43", "91350100M000100Y43"),
        ("914403001922038216", "914403001922038216"),
        ("91371002ma3c5y8k03", "91371002MA3C5Y8K03"),
        ("  91371002MA3C5Y8K03 ", "91371002MA3C5Y8K03"),
    ],
)
def test_validate_uscc_valid(value: str, normalised: str) -> None:
    assert validate_uscc(value) == normalised


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("91350100M000100Y4", "must be 18 characters"),
        ("91350100M000100Y433", "must be 18 characters"),
        ("91350100I000100Y43", "character not allowed: 'I'"),
        ("91350100O000100Y43", "character not allowed: 'O'"),
        ("91350100S000100Y43", "character not allowed: 'S'"),
        ("91350100V000100Y43", "character not allowed: 'V'"),
        ("91350100Z000100Y43", "character not allowed: 'Z'"),
        ("91350100-000100Y43", "character not allowed: '-'"),
        ("91350100M000100Y44", "check character does not match; expected 3"),
        ("914403001922038215", "check character does not match; expected 6"),
    ],
)
def test_validate_uscc_invalid(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_uscc(value)


def test_uscc_field() -> None:
    assert Party(uscc="91371002ma3c5y8k03").uscc == "91371002MA3C5Y8K03"
    with pytest.raises(ValidationError, match="check character does not match"):
        Party(uscc="91371002MA3C5Y8K04")


# Masking helpers


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("371002198503124210", "37**************10"),
        ("11010519491231002X", "11**************2X"),
        ("91371002MA3C5Y8K03", "91**************03"),
        ("ABCDE", "AB*DE"),
        ("ABCD", "****"),
        ("", ""),
    ],
)
def test_mask_id_number(value: str, masked: str) -> None:
    assert mask_id_number(value) == masked
    assert len(mask_id_number(value)) == len(value)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+8613800138000", "+86138****8000"),
        ("+86 138 0013 8000", "+86138****8000"),
        ("13800138000", "138****8000"),
        ("138-0013-8000", "138****8000"),
        ("+866315201234", "+86631***1234"),
        ("0631-5201234", "063****1234"),
        ("+14155552671", "+1415***2671"),
        ("+447911123456", "+44791***3456"),
        ("1234567", "*******"),
        ("", ""),
    ],
)
def test_mask_phone(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


@pytest.mark.parametrize("raw", ["13800138000", "+86 138 0013 8000", "010-12345678", "+1 650 253 0000", "12", "13800138000 ext. 12", "abc"])
def test_e164_reads_a_number_as_phone_parse_does(raw: str) -> None:
    try:
        expected = Phone.parse(raw).e164
    except ValueError as refused:
        with pytest.raises(ValueError, match=str(refused)):
            e164(raw)
    else:
        assert e164(raw) == expected


# Every three-digit start a Chinese 11-digit number can have (and the carrier-prefix and 1740x edges), with varied
# tails, and the starts of the other types (service, toll-free, shared-cost, fixed lines) at other lengths.
_TAILS = ("00000000", "12345678", "99999999", "05123456", "60012345")
_STARTS = [f"1{a}{b}" for a in range(10) for b in range(10)] + [f"174{c}" for c in range(10)] + [f"1610{c}" for c in range(10)] + ["1790", "1795", "1234"]
BARE_NUMBERS = sorted({(start + tail)[:11] for start in _STARTS for tail in _TAILS} | {"１３８００１３８０００", "138001380000", "1380013800"})
LINE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE: LineType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE: LineType.FIXED_LINE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: LineType.FIXED_LINE_OR_MOBILE,
    phonenumbers.PhoneNumberType.VOIP: LineType.VOIP,
    phonenumbers.PhoneNumberType.TOLL_FREE: LineType.TOLL_FREE,
}
OTHER_BARE_NUMBERS = ["4008001234", "8001234567", "95588", "1010123456", "1608123456", "01062345678", "063152012345", "16012345"]


def test_phone_parse_fast_reading_classifies_as_libphonenumber() -> None:
    # The shortcut for bare mobile numbers must give each number the E.164 form and line type the full parse gives it.
    fast = 0
    for raw in BARE_NUMBERS + OTHER_BARE_NUMBERS:
        try:
            number = phonenumbers.parse(raw, "CN")
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            with pytest.raises(ValueError):
                Phone.parse(raw)
            continue
        kind = phonenumbers.number_type(number)
        expected = Phone(e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), line_type=LINE_TYPES.get(kind, LineType.OTHER))
        assert Phone.parse(raw) == expected, raw
        fast += cn_mobile_e164(raw) is not None
        assert (cn_mobile_e164(raw) is not None) <= (kind == phonenumbers.PhoneNumberType.MOBILE), raw
    assert fast > 200  # the shortcut was taken for most of the mobile numbers


def test_e164_fast_reading_of_mobile_numbers_agrees_with_libphonenumber() -> None:
    # The pattern shortcut must accept and refuse exactly what the full parse does.
    for raw in BARE_NUMBERS:
        try:
            number = phonenumbers.parse(raw, "CN")
        except phonenumbers.NumberParseException:
            number = None
        if number is not None and phonenumbers.is_valid_number(number):
            assert e164(raw) == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), raw
        else:
            with pytest.raises(ValueError):
                e164(raw)
