"""Chinese case numbers (案号): parsing `（2024）鲁1002民初1234号` into year, court code, case type and sequence."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator

# 最高人民法院《关于人民法院案件案号的若干规定》(2015): （收案年度）+ 法院代字 + 类型代字 + 案件编号 + 号.
# The court code is 最高法 or a province abbreviation followed by up to four digits (高院: none,
# 中院: two, 基层法院 and special courts: four). Brackets arrive full- or half-width.
_CASE_NUMBER = re.compile(r"^\((?P<year>\d{4})\)(?P<court>最高法|[\u4e00-\u9fff]\d{0,4})(?P<type>[\u4e00-\u9fff]{1,6}?)(?P<sequence>\d{1,7})号$")
_EARLIEST_YEAR = 1990


@dataclass(frozen=True, slots=True)
class CaseNumber:
    """A parsed case number; `text` is the canonical spelling with full-width brackets."""

    year: int
    court_code: str
    case_type: str
    sequence: int
    text: str

    @property
    def key(self) -> str:
        """Identity of the case: the same case written with or without leading zeros has one key."""
        return f"{self.year}|{self.court_code}|{self.case_type}|{self.sequence}"

    @classmethod
    def parse(cls, raw: str) -> CaseNumber:
        """Parses a case number as a court writes it, or raises ValueError saying what is wrong."""
        return _parsed(raw)


# A notice's case number is parsed at every step that reads it (validation, registration, its scope, each address
# fact), six times per notice: the last ones parsed are kept. A CaseNumber is frozen, so callers can share one.
@lru_cache(maxsize=1024)
def _parsed(raw: str) -> CaseNumber:
    compact = "".join(unicodedata.normalize("NFKC", raw).split())
    match = _CASE_NUMBER.match(compact)
    if match is None:
        raise ValueError("case number must look like （2024）鲁1002民初1234号: (year) court code, case type, sequence, 号")
    year = int(match["year"])
    if year < _EARLIEST_YEAR:
        raise ValueError(f"case number year {year} is before {_EARLIEST_YEAR}")
    court, case_type, digits = match["court"], match["type"], match["sequence"]
    if int(digits) == 0:
        raise ValueError("case number sequence must be at least 1")
    return CaseNumber(year=year, court_code=court, case_type=case_type, sequence=int(digits), text=f"（{year}）{court}{case_type}{digits}号")


def _canonical(value: str) -> str:
    return CaseNumber.parse(value).text


# The type for case numbers arriving from outside: validated and rewritten with full-width brackets.
CaseNumberText = Annotated[str, AfterValidator(_canonical)]


def case_key(text: str) -> str:
    """Returns the identity key of a case number."""
    return CaseNumber.parse(text).key
