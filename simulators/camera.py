"""A simulated phone camera: real JPEG and PNG files with chosen EXIF, as tests of photo evidence and the demo's robot agent take them."""

from __future__ import annotations

import io
from datetime import datetime

from PIL import Image
from PIL.ExifTags import GPS, IFD, Base
from PIL.TiffImagePlugin import IFDRational

from shared.contracts.events import GeoPoint

# Every EXIF photo gets a camera, as a phone's would, so that its EXIF segment is never empty.
MAKE = "Xiaomi"
MODEL = "Redmi Note 12"
EXIF_TIME = "%Y:%m:%d %H:%M:%S"
# Phones write GPS seconds as rationals over 10,000: about 3 mm on the ground.
SECOND_FRACTIONS = 10_000


def jpeg(
    *,
    location: GeoPoint | None = None,
    taken_at: datetime | None = None,
    offset: str | None = "+08:00",
    software: str | None = None,
    modified_at: datetime | None = None,
    exif: bool = True,
    size: tuple[int, int] = (64, 48),
    quality: int = 85,
) -> bytes:
    """Returns a JPEG whose EXIF says what is given; times are written as the wall clock in `offset` (naive ones as they are)."""
    buffer = io.BytesIO()
    if exif:
        _image(size).save(buffer, "JPEG", quality=quality, exif=_exif(location, taken_at, offset, software, modified_at))
    elif any(value is not None for value in (location, taken_at, software, modified_at)):
        raise ValueError("exif=False writes no EXIF segment: leave location, taken_at, software and modified_at unset")
    else:
        _image(size).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def png(*, size: tuple[int, int] = (64, 48)) -> bytes:
    """Returns a PNG without metadata, like a screenshot."""
    buffer = io.BytesIO()
    _image(size).save(buffer, "PNG")
    return buffer.getvalue()


def _image(size: tuple[int, int]) -> Image.Image:
    """Returns a plain picture: the checks read metadata, never pixels."""
    return Image.new("RGB", size, (186, 160, 120))


def _exif(location: GeoPoint | None, taken_at: datetime | None, offset: str | None, software: str | None, modified_at: datetime | None) -> Image.Exif:
    """Returns IFD0 (camera, software, DateTime), the Exif IFD (DateTimeOriginal and offsets) and the GPS IFD."""
    exif = Image.Exif()
    exif[Base.Make] = MAKE
    exif[Base.Model] = MODEL
    if software is not None:
        # As bytes, because Pillow turns non-ASCII characters of a str into "?", and apps like 美图秀秀 write UTF-8.
        exif[Base.Software] = software.encode()
    details = exif.get_ifd(IFD.Exif)
    if taken_at is not None:
        details[Base.DateTimeOriginal] = _wall_clock(taken_at, offset)
        if offset is not None:
            details[Base.OffsetTimeOriginal] = offset
    if modified_at is not None:
        exif[Base.DateTime] = _wall_clock(modified_at, offset)
        if offset is not None:
            details[Base.OffsetTime] = offset
    if location is not None:
        gps = exif.get_ifd(IFD.GPSInfo)
        gps[GPS.GPSLatitudeRef] = "N" if location.lat >= 0 else "S"
        gps[GPS.GPSLatitude] = _degrees_minutes_seconds(location.lat)
        gps[GPS.GPSLongitudeRef] = "E" if location.lon >= 0 else "W"
        gps[GPS.GPSLongitude] = _degrees_minutes_seconds(location.lon)
    return exif


def _wall_clock(moment: datetime, offset: str | None) -> str:
    """Returns what the camera's clock showed: an aware moment in the given offset, anything else as it is."""
    if offset is not None and moment.tzinfo is not None:
        moment = moment.astimezone(datetime.strptime(offset, "%z").tzinfo)
    return moment.strftime(EXIF_TIME)


def _degrees_minutes_seconds(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    """Returns |value| as EXIF's degrees, minutes and seconds rationals."""
    # Counting in whole fractions of a second keeps rounding from producing a 60th second.
    fractions = round(abs(value) * 3600 * SECOND_FRACTIONS)
    degrees, fractions = divmod(fractions, 3600 * SECOND_FRACTIONS)
    minutes, fractions = divmod(fractions, 60 * SECOND_FRACTIONS)
    return IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(fractions, SECOND_FRACTIONS)
