"""plain_email and the EmailAddress type: the e-mail addresses read without email_validator read exactly as it reads them."""

import random
import string

import pytest
from pydantic import EmailStr, TypeAdapter, ValidationError
from pydantic.networks import validate_email

from shared.contracts.values import EmailAddress, email_address, plain_email


def validator(raw: str) -> str | None:
    """Returns the address as pydantic's validate_email normalises it, or None when it refuses it."""
    try:
        return validate_email(raw)[1]
    except ValueError:
        return None


# (address, what plain_email returns): None means "left to the validator", whatever the validator then decides.
TABLE = [
    ("zhang.wei@example.com", "zhang.wei@example.com"),
    ("Zhang.Wei@Example.COM", "Zhang.Wei@example.com"),  # the local part keeps its case, the domain does not
    ("a+tag@mail.court.gov.cn", "a+tag@mail.court.gov.cn"),
    ("o'brien@example.org", "o'brien@example.org"),
    ("x_1-2@a1.b-2.cn", "x_1-2@a1.b-2.cn"),
    ("a@b.co", "a@b.co"),
    ("a" * 64 + "@example.com", "a" * 64 + "@example.com"),
    ("a" * 65 + "@example.com", None),  # local part too long: the validator says so
    ("a@" + "b" * 63 + ".com", "a@" + "b" * 63 + ".com"),
    ("a@" + "b" * 64 + ".com", None),  # a label too long
    ("x..y@example.com", None),
    (".x@example.com", None),
    ("x.@example.com", None),
    ("x@example", None),  # no period in the domain
    ("x@example.c0m1", None),  # the TLD must end in a letter
    ("x@-example.com", None),
    ("x@example-.com", None),
    ("x@xn--fiqs8s.cn", None),  # Punycode: the validator decodes it
    ("x@ab--c.com", None),
    ("x@localhost", None),
    ("x@mail.test", None),  # special-use names
    ("x@a.onion", None),
    ("x@1.0.0.127.in-addr.arpa", None),
    ("x@[127.0.0.1]", None),
    ('"quoted"@example.com', None),
    ("张伟@example.com", None),
    ("x@例子.中国", None),
    (" x@example.com", None),  # surrounding space: the validator strips it
    ("Zhang Wei <x@example.com>", None),
    ("", None),
    ("@example.com", None),
    ("x@", None),
]


@pytest.mark.parametrize(("raw", "expected"), TABLE)
def test_plain_email_table(raw: str, expected: str | None) -> None:
    assert plain_email(raw) == expected
    if expected is not None:
        assert validator(raw) == expected


@pytest.mark.parametrize(("raw", "_"), TABLE)
def test_email_address_reads_every_address_as_the_validator_does(raw: str, _: str | None) -> None:
    expected = validator(raw)
    if expected is None:
        with pytest.raises(ValueError):
            email_address(raw)
    else:
        assert email_address(raw) == expected


def outcome(adapter: TypeAdapter[str], raw: object) -> object:
    """Returns what a field of the type makes of the value: the address, or its errors' types and messages."""
    try:
        return adapter.validate_python(raw)
    except ValidationError as refused:
        return [(error["type"], error["msg"]) for error in refused.errors()]


@pytest.mark.parametrize("raw", [raw for raw, _ in TABLE] + [None, 5, b"x@example.com"])
def test_email_address_fields_answer_as_email_str_fields(raw: object) -> None:
    assert outcome(TypeAdapter(EmailAddress), raw) == outcome(TypeAdapter(EmailStr), raw)


def test_email_address_is_described_as_email_str_is() -> None:
    assert TypeAdapter(EmailAddress).json_schema() == TypeAdapter(EmailStr).json_schema() == {"type": "string", "format": "email"}


def test_plain_email_agrees_with_the_validator_on_random_addresses() -> None:
    rng = random.Random(20261203)
    alphabet = string.ascii_letters + string.digits + "._-+'!#$%&*/=?^`{|}~@" + "李.-"
    taken = 0
    for _ in range(20_000):
        # Mostly address-shaped text, with the characters and lengths that break the rules now and then.
        local = "".join(rng.choice(alphabet) for _ in range(rng.choice([1, 2, 5, 12, 63, 64, 65])))
        labels = ["".join(rng.choice(string.ascii_letters + string.digits + "-") for _ in range(rng.choice([1, 2, 3, 8, 63, 64]))) for _ in range(rng.randint(1, 4))]
        raw = f"{local}@{'.'.join(labels)}"
        fast = plain_email(raw)
        if fast is not None:
            taken += 1
            assert validator(raw) == fast, raw
    assert taken > 1000  # the generator reaches the fast path often enough to mean something
