"""Value types for identities and contacts: E.164 phone, resident ID number, unified social credit code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic.networks import validate_email


class LineType(StrEnum):
    """Kind of line behind a phone number, as classified by libphonenumber."""

    MOBILE = "mobile"
    FIXED_LINE = "fixed_line"
    FIXED_LINE_OR_MOBILE = "fixed_line_or_mobile"
    VOIP = "voip"
    TOLL_FREE = "toll_free"
    OTHER = "other"


_LINE_TYPES: dict[int, LineType] = {
    phonenumbers.PhoneNumberType.MOBILE: LineType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE: LineType.FIXED_LINE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: LineType.FIXED_LINE_OR_MOBILE,
    phonenumbers.PhoneNumberType.VOIP: LineType.VOIP,
    phonenumbers.PhoneNumberType.TOLL_FREE: LineType.TOLL_FREE,
}


class Phone(BaseModel):
    """A valid phone number in E.164 form with its line type."""

    model_config = ConfigDict(frozen=True)

    # Inside the system a Phone was parsed once at the boundary (PhoneNumber); only its shape is checked.
    e164: str = Field(pattern=r"^\+[1-9]\d{6,14}$")
    line_type: LineType

    @property
    def can_receive_sms(self) -> bool:
        """Whether the number is known to be a mobile line."""
        # libphonenumber classifies China's 1[3-9]x numbers as MOBILE; numbers it cannot tell
        # apart (e.g. all of NANP, FIXED_LINE_OR_MOBILE) are not assumed to take SMS.
        return self.line_type is LineType.MOBILE

    @classmethod
    def parse(cls, raw: str, region: str = "CN") -> Phone:
        """Parse a number as written by a person, national numbers read in `region`."""
        mobile = cn_mobile_e164(raw) if region == "CN" else None
        if mobile is not None:
            return cls(e164=mobile, line_type=LineType.MOBILE)
        number = _valid_number(raw, region)
        return cls(
            e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
            line_type=_LINE_TYPES.get(phonenumbers.number_type(number), LineType.OTHER),
        )


def e164(raw: str, region: str = "CN") -> str:
    """Returns a number as written by a person in E.164 form, as Phone.parse reads it, without classifying its line."""
    mobile = cn_mobile_e164(raw) if region == "CN" else None
    return mobile or phonenumbers.format_number(_valid_number(raw, region), phonenumbers.PhoneNumberFormat.E164)


def cn_mobile_e164(raw: str) -> str | None:
    """Returns a bare Chinese number libphonenumber classes as mobile (13800138000) in E.164 form without a full parse; None for any other writing."""
    if _CN.national_prefix.match(raw) or not (_CN.general.takes(raw) and _CN.mobile.takes(raw)):
        return None
    # number_type tries these types before mobile; a number one of them takes is not MOBILE.
    return None if any(desc.takes(raw) for desc in _CN.before_mobile) else "+86" + raw


@dataclass(frozen=True)
class _Description:
    """One of libphonenumber's number descriptions: the lengths it allows (any, if none) and its national number pattern."""

    lengths: frozenset[int]
    pattern: re.Pattern[str]

    def takes(self, national: str) -> bool:
        """Whether a national number matches it, as libphonenumber's _is_number_matching_desc decides."""
        return (not self.lengths or len(national) in self.lengths) and self.pattern.fullmatch(national) is not None


@dataclass(frozen=True)
class _Metadata:
    """China's descriptions as number_type reads a national number, and the prefix parsing strips."""

    general: _Description
    mobile: _Description
    before_mobile: tuple[_Description, ...]
    national_prefix: re.Pattern[str]


# A bare national mobile number (most numbers a court sends) is classified exactly as a full parse classifies it (≈1 µs
# instead of ≈25): it parses to itself unless its start reads as a carrier prefix that parsing strips (then the full
# parse judges it), and its type is the first of number_type's descriptions it matches.
def _cn_metadata() -> _Metadata:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    assert metadata and metadata.general_desc and metadata.mobile and metadata.national_prefix_for_parsing and not metadata.same_mobile_and_fixed_line_pattern
    earlier = (
        metadata.premium_rate,
        metadata.toll_free,
        metadata.shared_cost,
        metadata.voip,
        metadata.personal_number,
        metadata.pager,
        metadata.uan,
        metadata.voicemail,
        metadata.fixed_line,
    )

    def described(desc: phonenumbers.PhoneNumberDesc) -> _Description:
        return _Description(frozenset(desc.possible_length), re.compile(desc.national_number_pattern or "", re.ASCII))

    return _Metadata(
        general=described(metadata.general_desc),
        mobile=described(metadata.mobile),
        before_mobile=tuple(described(desc) for desc in earlier if desc is not None and desc.national_number_pattern),
        national_prefix=re.compile(metadata.national_prefix_for_parsing, re.ASCII),
    )


_CN = _cn_metadata()


# An address email_validator takes as written but for the domain's case: an ASCII dot-atom local part, letter-digit-hyphen
# labels and a letter TLD. Punycode ("--"), quoted or international parts, special-use names: the validator judges.
_ATEXT = r"[A-Za-z0-9_!#$%&'*+\-/=?^`{|}~]+"
_EMAIL_MAX, _LOCAL_MAX = 254, 64  # RFC 5321 §4.5.3.1, as email_validator counts them
_PLAIN_EMAIL = re.compile(rf"(?P<local>{_ATEXT}(?:\.{_ATEXT})*)@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.)+[A-Za-z]{{2,63}})")


def email_address(raw: str) -> str:
    """Returns an e-mail address as pydantic's validate_email normalises it; raises ValueError (its reason) when it is not one."""
    # email_validator costs ~26 µs an address; the plain ones (nearly all) are read by the pattern below, as it reads them.
    return plain_email(raw) or validate_email(raw)[1]


# The type for e-mail addresses arriving from outside: pydantic's EmailStr, read as email_address reads it (≈2 µs
# instead of ≈22 µs an address), with the same errors for the addresses email_validator judges.
EmailAddress = Annotated[str, AfterValidator(email_address), WithJsonSchema({"type": "string", "format": "email"})]


def plain_email(raw: str) -> str | None:
    """Returns a plain ASCII e-mail address as email_validator normalises it (domain lower-cased); None for any it must judge itself."""
    match = _PLAIN_EMAIL.fullmatch(raw)
    if match is None or len(raw) > _EMAIL_MAX or len(match["local"]) > _LOCAL_MAX or "--" in match["domain"]:
        return None
    domain = match["domain"].lower()
    if any(domain == name or domain.endswith("." + name) for name in SPECIAL_USE_DOMAIN_NAMES):
        return None
    return f"{match['local']}@{domain}"


def _valid_number(raw: str, region: str) -> phonenumbers.PhoneNumber:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if number.extension:
        # E.164 has no room for an extension; dropping it silently would reach the wrong party.
        raise ValueError("phone extensions are not supported")
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid number for its region")
    return number


def _parse_at_boundary(value: Any) -> Any:
    if isinstance(value, str):
        return Phone.parse(value)
    if isinstance(value, dict) and isinstance(value.get("e164"), str):
        # A caller's claimed line type is not trusted: the number is parsed and classified again.
        try:
            parsed = Phone.parse(value["e164"], region="ZZ")
        except ValueError:
            raise ValueError("not an E.164 number") from None
        if parsed.e164 != value["e164"]:
            raise ValueError("not an E.164 number")
        if "line_type" in value and value["line_type"] not in set(LineType):
            raise ValueError(f"line_type must be one of {', '.join(LineType)}")
        return parsed
    return value


# The type for numbers arriving from outside: text or {"e164": …} is parsed and validated in full.
PhoneNumber = Annotated[Phone, BeforeValidator(_parse_at_boundary)]

# GB 11643-1999 §4 / ISO 7064 MOD 11-2: weight of position i is 2**(17 - i) mod 11.
_RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_ID_CHECK_CHARS = "10X98765432"
# GB/T 2260 province-level codes, plus 71 (Taiwan), 81/82 (Hong Kong, Macao) and 83 (residence
# permits for Taiwan residents, which are issued numbers in the same format).
_PROVINCE_CODES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23"}
    | {str(code) for code in range(31, 38)}
    | {str(code) for code in range(41, 47)}
    | {str(code) for code in range(50, 55)}
    | {str(code) for code in range(61, 66)}
    | {"71", "81", "82", "83"}
)
_EARLIEST_BIRTH_DATE = date(1900, 1, 1)


def resident_id_check_char(first17: str) -> str:
    """Check character for the first 17 digits of a resident ID number (GB 11643-1999)."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("expected 17 digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _RESIDENT_ID_WEIGHTS, strict=True))
    return _RESIDENT_ID_CHECK_CHARS[total % 11]


def validate_resident_id(value: str) -> str:
    """Return the normalised 18-character resident ID number or raise ValueError."""
    normalised = value.strip().upper()
    if len(normalised) != 18:
        raise ValueError("resident ID number must be 18 characters")
    body, check = normalised[:17], normalised[17]
    if not (body.isascii() and body.isdigit()) or check not in "0123456789X":
        raise ValueError("resident ID number must be 17 digits followed by a digit or X")
    if body[:2] not in _PROVINCE_CODES:
        raise ValueError("resident ID number has an unknown province code")
    try:
        birth = date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        raise ValueError("resident ID number has an invalid birth date") from None
    if not _EARLIEST_BIRTH_DATE <= birth <= date.today():
        raise ValueError("resident ID number has a birth date out of range")
    expected = resident_id_check_char(body)
    if check != expected:
        raise ValueError(f"resident ID check digit does not match; expected {expected}")
    return normalised


ResidentId = Annotated[str, AfterValidator(validate_resident_id)]

# GB 32100-2015 §4.2: the code uses 0-9 and the capitals without I, O, S, V, Z, valued 0..30 in
# this order; the weight of position i is 3**i mod 31.
_USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUES = {char: index for index, char in enumerate(_USCC_CHARSET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    """Check character for the first 17 characters of a unified social credit code (GB 32100-2015)."""
    if len(first17) != 17 or any(char not in _USCC_VALUES for char in first17):
        raise ValueError("expected 17 characters from the unified social credit code charset")
    total = sum(_USCC_VALUES[char] * weight for char, weight in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> str:
    """Return the normalised unified social credit code or raise ValueError."""
    normalised = value.strip().upper()
    if len(normalised) != 18:
        raise ValueError("unified social credit code must be 18 characters")
    for char in normalised:
        if char not in _USCC_VALUES:
            raise ValueError(f"unified social credit code contains a character not allowed: {char!r}")
    expected = uscc_check_char(normalised[:17])
    if normalised[17] != expected:
        raise ValueError(f"unified social credit code check character does not match; expected {expected}")
    return normalised


Uscc = Annotated[str, AfterValidator(validate_uscc)]

_ID_NUMBER_CHECKS = {"resident_id": validate_resident_id, "uscc": validate_uscc}


def validate_id_number(id_type: str, value: str) -> str:
    """Return an ID number of the given type normalised, its check character verified where the type has one."""
    check = _ID_NUMBER_CHECKS.get(str(id_type))
    return check(value) if check else value.strip().upper()


def mask_id_number(value: str) -> str:
    """Keep the first two and last two characters of an identifier and star the rest."""
    if len(value) <= 4:
        # Nothing would be hidden by keeping four characters of so short a value.
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


def mask_phone(e164_or_raw: str) -> str:
    """Keep the country code, three leading and four trailing digits of a phone number."""
    digits = "".join(char for char in e164_or_raw if char.isdecimal())
    if e164_or_raw.lstrip().startswith("+"):
        try:
            country_code = str(phonenumbers.parse("+" + digits, None).country_code)
        except phonenumbers.NumberParseException:
            country_code = ""
        head = "+" + digits[: len(country_code) + 3]
        hidden = len(digits) - len(country_code) - 3 - 4
    else:
        head = digits[:3]
        hidden = len(digits) - 3 - 4
    if hidden <= 0:
        # Too short for head and tail to leave anything hidden.
        return "*" * len(digits)
    return head + "*" * hidden + digits[-4:]
