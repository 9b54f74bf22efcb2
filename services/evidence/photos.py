"""What a photo's own metadata claims: where and when it was taken, by which camera, with which software."""

from __future__ import annotations

import io
import math
import struct
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from PIL.ExifTags import GPS, IFD, Base

from shared.contracts.events import GeoPoint
from shared.plumbing.clock import SHANGHAI

# Formats a phone camera or a screenshot produces; anything else is not a photo we can check.
# HEIC is missing because Pillow cannot open it without a plugin this project does not ship.
FORMATS = ("JPEG", "PNG", "WEBP")

# Errors Pillow's EXIF parser raises on a damaged or hostile segment (seen by fuzzing Image.Exif.load).
_EXIF_ERRORS = (SyntaxError, ValueError, OSError, EOFError, struct.error)


class PhotoError(ValueError):
    """The bytes are not an image we can read."""


@dataclass(frozen=True)
class PhotoFacts:
    """The metadata of one photo, as read; every field is a claim the file makes, not a verified fact."""

    has_exif: bool
    location: GeoPoint | None
    taken_at: datetime | None
    # True when the file gave no OffsetTimeOriginal and taken_at was read as Asia/Shanghai time.
    offset_assumed: bool
    software: str | None
    modified_at: datetime | None
    make: str | None
    model: str | None
    width: int
    height: int


def read_facts(photo: bytes | Path) -> PhotoFacts:
    """Reads a photo's EXIF without decoding its pixels, from its bytes or its file; raises PhotoError if it is not a JPEG, PNG or WebP."""
    # From a file Pillow reads only the segments before the pixels: a camera's few megabytes are not read into memory to find a header.
    source = io.BytesIO(photo) if isinstance(photo, bytes) else photo
    try:
        with Image.open(source, formats=FORMATS) as image:
            width, height = image.size
            # From info rather than getexif(): PNG's getexif() decodes the pixels when there is no eXIf chunk.
            raw = image.info.get("exif")
    except UnidentifiedImageError as exc:
        # Pillow's own message names the in-memory buffer object, which tells the uploader nothing.
        raise PhotoError("not a readable JPEG, PNG or WebP image") from exc
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise PhotoError(f"not a readable JPEG, PNG or WebP image: {exc}") from exc
    exif = _load_exif(raw)
    if exif is None:
        return PhotoFacts(
            has_exif=False,
            location=None,
            taken_at=None,
            offset_assumed=False,
            software=None,
            modified_at=None,
            make=None,
            model=None,
            width=width,
            height=height,
        )
    details = _sub_ifd(exif, IFD.Exif)
    original_offset = _offset(details.get(Base.OffsetTimeOriginal))
    taken_at = _timestamp(details.get(Base.DateTimeOriginal), original_offset)
    # The camera writes DateTime with its own offset; without one, the clock that wrote DateTimeOriginal wrote it too.
    modified_at = _timestamp(exif.get(Base.DateTime), _offset(details.get(Base.OffsetTime)) or original_offset)
    return PhotoFacts(
        has_exif=True,
        location=_location(_sub_ifd(exif, IFD.GPSInfo)),
        taken_at=taken_at,
        offset_assumed=taken_at is not None and original_offset is None,
        software=_text(exif.get(Base.Software)),
        modified_at=modified_at,
        make=_text(exif.get(Base.Make)),
        model=_text(exif.get(Base.Model)),
        width=width,
        height=height,
    )


def _load_exif(raw: object) -> Image.Exif | None:
    """Returns the parsed EXIF, or None when there is none, it is empty or it cannot be parsed."""
    if not isinstance(raw, bytes):
        return None
    exif = Image.Exif()
    try:
        exif.load(raw)
    except _EXIF_ERRORS:
        # Unreadable EXIF proves no more than missing EXIF, so it is reported the same way.
        return None
    return exif if len(exif) else None


def _sub_ifd(exif: Image.Exif, ifd: IFD) -> dict[int, object]:
    """Returns the Exif or GPS sub-directory, empty when it is missing or damaged."""
    try:
        return dict(exif.get_ifd(ifd))
    except _EXIF_ERRORS:
        return {}


def _text(value: object) -> str | None:
    """Returns an EXIF string tag cleaned of padding, decoding the UTF-8 that apps write into ASCII tags."""
    if isinstance(value, str):
        # Pillow decodes ASCII tags as Latin-1; apps such as 美图秀秀 put UTF-8 there.
        value = value.encode("latin-1", "replace")
    if not isinstance(value, bytes):
        return None
    text = value.decode("utf-8", "replace").strip("\x00 \t\r\n")
    return text or None


def _offset(value: object) -> tzinfo | None:
    """Returns the time zone of an EXIF offset tag ("+08:00"), or None when it is missing or malformed."""
    text = _text(value)
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%z").tzinfo
    except ValueError:
        return None


def _timestamp(value: object, offset: tzinfo | None) -> datetime | None:
    """Returns an EXIF "YYYY:MM:DD HH:MM:SS" as an aware datetime, in Asia/Shanghai when the offset is unknown."""
    text = _text(value)
    if text is None:
        return None
    try:
        # Cameras without a set clock write blanks or zeros here; strptime rejects both.
        wall = datetime.strptime(text, "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    return wall.replace(tzinfo=offset or SHANGHAI)


def _location(gps: dict[int, object]) -> GeoPoint | None:
    """Returns the GPS position, or None when it is missing or malformed in any part."""
    lat = _coordinate(gps.get(GPS.GPSLatitude), gps.get(GPS.GPSLatitudeRef), "N", "S", 90.0)
    lon = _coordinate(gps.get(GPS.GPSLongitude), gps.get(GPS.GPSLongitudeRef), "E", "W", 180.0)
    if lat is None or lon is None:
        return None
    return GeoPoint(lat=lat, lon=lon)


def _coordinate(value: object, ref: object, positive: str, negative: str, limit: float) -> float | None:
    """Returns signed decimal degrees from EXIF's (degrees, minutes, seconds) rationals and its reference letter."""
    hemisphere = (_text(ref) or "").upper()
    # Without its reference letter a coordinate could be in either hemisphere: guessing would invent a place.
    if hemisphere not in (positive, negative) or not isinstance(value, tuple) or len(value) != 3:
        return None
    try:
        degrees, minutes, seconds = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    # A zero denominator reads as NaN; minutes may carry the fraction ("dd, mm.mmmm, 0" is allowed).
    if not all(math.isfinite(part) for part in (degrees, minutes, seconds)):
        return None
    if degrees < 0 or not 0 <= minutes < 60 or not 0 <= seconds < 60:
        return None
    decimal = degrees + minutes / 60 + seconds / 3600
    if decimal > limit:
        return None
    return -decimal if hemisphere == negative else decimal
