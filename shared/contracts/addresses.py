"""Postal addresses: normalised spelling, province/city/district parsed, and a key that merges one place written two ways."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")
_COUNTRY_PREFIXES = ("中华人民共和国", "中国")
_PROVINCE = re.compile(r"^(?:.{2,3}?省|.{2,8}?自治区|香港特别行政区|澳门特别行政区)")
_CITY = re.compile(r"^.{2,10}?(?:自治州|地区|盟|市)")
_DISTRICT = re.compile(r"^.{1,10}?(?:区|县|旗|市)")
_TRAILING = ".,;:。，；：、 "


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """An address as written, normalised, with its administrative divisions where they could be read."""

    text: str
    province: str | None
    city: str | None
    district: str | None
    rest: str

    @property
    def key(self) -> str:
        """The place, independent of spelling."""
        # A prefecture-level city name is unique in China, so the province adds nothing once the
        # city is known; dropping it lets "威海市…" and "山东省威海市…" meet.
        return f"{self.city or self.province or ''}{self.district or ''}{self.rest}"

    @classmethod
    def parse(cls, raw: str) -> PostalAddress:
        """Normalises full-width characters and spacing and reads the divisions from the front."""
        text = "".join(unicodedata.normalize("NFKC", raw).split()).rstrip(_TRAILING)
        for prefix in _COUNTRY_PREFIXES:
            text = text.removeprefix(prefix)
        rest = text
        province = city = None
        municipality = next((m for m in _MUNICIPALITIES if rest.startswith(m)), None)
        if municipality:
            province = city = municipality
            rest = rest[len(municipality) :]
        else:
            province, rest = _take(_PROVINCE, rest)
            city, rest = _take(_CITY, rest)
        district, rest = _take(_DISTRICT, rest)
        return cls(text=text, province=province, city=city, district=district, rest=rest)


def _take(pattern: re.Pattern[str], text: str) -> tuple[str | None, str]:
    match = pattern.match(text)
    if match is None or match.end() == len(text):
        # A division that would swallow the whole address is a street name, not a division.
        return None, text
    return match.group(), text[match.end() :]
