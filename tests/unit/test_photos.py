"""Photo evidence: reading EXIF from real files, the distance to the address, and the flags a photo raises."""

from __future__ import annotations

import io
import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFile
from PIL.ExifTags import GPS, IFD, Base
from PIL.TiffImagePlugin import IFDRational

from services.evidence.domain.photo_checks import EARTH_RADIUS_M, distance_m, photo_flags
from services.evidence.photos import PhotoError, read_facts
from shared.contracts.events import GeoPoint
from shared.contracts.evidence import EvidenceFlag
from shared.plumbing.clock import SHANGHAI
from simulators.camera import MAKE, MODEL, jpeg, png

# The address of the task (环翠区, 威海) and points 50 m north and 2 km east of it.
TARGET = GeoPoint(lat=37.5091, lon=122.1164)
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180
NEAR = GeoPoint(lat=TARGET.lat + 50 / METRES_PER_DEGREE, lon=TARGET.lon)
FAR = GeoPoint(lat=TARGET.lat, lon=TARGET.lon + 2000 / (METRES_PER_DEGREE * math.cos(math.radians(TARGET.lat))))
BUENOS_AIRES = GeoPoint(lat=-34.6037, lon=-58.3816)

# The task's window, the time the agent reported, and a photo taken 6 minutes before that report.
WINDOW = (datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI), datetime(2026, 3, 2, 18, 0, tzinfo=SHANGHAI))
CLAIMED = datetime(2026, 3, 2, 10, 20, tzinfo=SHANGHAI)
TAKEN = datetime(2026, 3, 2, 10, 14, 7, tzinfo=SHANGHAI)

F = EvidenceFlag


def raw_jpeg(ifd0: dict[int, Any] | None = None, details: dict[int, Any] | None = None, gps: dict[int, Any] | None = None) -> bytes:
    """Returns a JPEG carrying exactly the given tags, for EXIF no well-behaved camera writes."""
    exif = Image.Exif()
    exif.update({Base.Make: MAKE} if ifd0 is None else ifd0)
    if details:
        exif.get_ifd(IFD.Exif).update(details)
    if gps:
        exif.get_ifd(IFD.GPSInfo).update(gps)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def webp_with_gps(location: GeoPoint) -> bytes:
    """Returns a WebP carrying the EXIF of a builder JPEG."""
    exif = Image.open(io.BytesIO(jpeg(location=location, taken_at=TAKEN))).getexif()
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24)).save(buffer, "WEBP", exif=exif)
    return buffer.getvalue()


def dms(degrees: int, minutes: int, seconds: IFDRational) -> tuple[IFDRational, IFDRational, IFDRational]:
    """Returns a GPS coordinate as EXIF writes it: whole degrees and minutes, then the seconds given."""
    return IFDRational(degrees, 1), IFDRational(minutes, 1), seconds


def gps_jpeg(lat_ref: str | None, lat: tuple[IFDRational, ...], lon_ref: str | None, lon: tuple[IFDRational, ...]) -> bytes:
    """Returns a JPEG whose GPS directory holds exactly these references (None: left out) and coordinates."""
    tags = {GPS.GPSLatitudeRef: lat_ref, GPS.GPSLatitude: lat, GPS.GPSLongitudeRef: lon_ref, GPS.GPSLongitude: lon}
    return raw_jpeg(gps={tag: value for tag, value in tags.items() if value is not None})


# 37°30′N 122°7′E as whole degrees and minutes.
LAT, LON = dms(37, 30, IFDRational(0)), dms(122, 7, IFDRational(0))


def test_reads_a_phone_photo() -> None:
    facts = read_facts(jpeg(location=NEAR, taken_at=TAKEN, modified_at=TAKEN, software="HDR+ 1.0.540104", size=(80, 60)))
    assert facts.has_exif
    assert facts.location is not None
    assert facts.location.lat == pytest.approx(NEAR.lat, abs=1e-7)
    assert facts.location.lon == pytest.approx(NEAR.lon, abs=1e-7)
    assert facts.taken_at == TAKEN and facts.taken_at.utcoffset() == timedelta(hours=8)
    assert facts.modified_at == TAKEN
    assert not facts.offset_assumed
    assert (facts.software, facts.make, facts.model) == ("HDR+ 1.0.540104", MAKE, MODEL)
    assert (facts.width, facts.height) == (80, 60)


@pytest.mark.parametrize(
    ("data", "location"),
    [
        pytest.param(jpeg(location=NEAR), NEAR, id="north-east"),
        pytest.param(jpeg(location=BUENOS_AIRES), BUENOS_AIRES, id="south-west"),
        pytest.param(jpeg(location=GeoPoint(lat=-33.8688, lon=151.2093)), GeoPoint(lat=-33.8688, lon=151.2093), id="south-east"),
        pytest.param(jpeg(location=GeoPoint(lat=40.7128, lon=-74.006)), GeoPoint(lat=40.7128, lon=-74.006), id="north-west"),
        pytest.param(webp_with_gps(BUENOS_AIRES), BUENOS_AIRES, id="webp"),
        pytest.param(jpeg(), None, id="no-gps"),
        pytest.param(jpeg(exif=False), None, id="stripped"),
        pytest.param(gps_jpeg("N", LAT, None, LON), None, id="longitude-without-ref"),
        pytest.param(gps_jpeg("X", LAT, "E", LON), None, id="unknown-ref"),
        pytest.param(gps_jpeg("N", dms(37, 30, IFDRational(1, 0)), "E", LON), None, id="zero-denominator"),
        pytest.param(gps_jpeg("N", dms(97, 30, IFDRational(0)), "E", LON), None, id="latitude-past-the-pole"),
        pytest.param(gps_jpeg("N", dms(37, 75, IFDRational(0)), "E", LON), None, id="minutes-past-sixty"),
        pytest.param(gps_jpeg("N", LAT[:2], "E", LON), None, id="two-values"),
        pytest.param(gps_jpeg("N", LAT, "E", LON), GeoPoint(lat=37.5, lon=122 + 7 / 60), id="hand-written"),
        # Minutes may carry the fraction: 37°30.1′S.
        pytest.param(
            gps_jpeg("S", (IFDRational(37), IFDRational(301, 10), IFDRational(0)), "W", dms(12, 0, IFDRational(0))),
            GeoPoint(lat=-(37 + 30.1 / 60), lon=-12.0),
            id="fractional-minutes",
        ),
    ],
)
def test_location(data: bytes, location: GeoPoint | None) -> None:
    found = read_facts(data).location
    if location is None:
        assert found is None
    else:
        assert found is not None
        assert (found.lat, found.lon) == (pytest.approx(location.lat, abs=1e-7), pytest.approx(location.lon, abs=1e-7))


@pytest.mark.parametrize(
    ("data", "taken_at", "assumed"),
    [
        pytest.param(jpeg(taken_at=TAKEN), TAKEN, False, id="with-offset"),
        pytest.param(jpeg(taken_at=TAKEN, offset=None), TAKEN, True, id="offset-missing-read-as-shanghai"),
        pytest.param(jpeg(taken_at=TAKEN, offset="+09:00"), TAKEN, False, id="tokyo-clock"),
        pytest.param(jpeg(taken_at=TAKEN, offset="-05:00"), TAKEN, False, id="negative-offset"),
        # A camera on UTC that writes no offset is read as Shanghai time: 8 hours early.
        pytest.param(jpeg(taken_at=datetime(2026, 3, 2, 2, 14, 7), offset=None), TAKEN - timedelta(hours=8), True, id="utc-clock-without-offset"),
        pytest.param(raw_jpeg(details={Base.DateTimeOriginal: "2026:03:02 10:14:07", Base.OffsetTimeOriginal: "   :  "}), TAKEN, True, id="blank-offset"),
        pytest.param(raw_jpeg(details={Base.DateTimeOriginal: "    :  :     :  :  "}), None, False, id="blank-time"),
        pytest.param(raw_jpeg(details={Base.DateTimeOriginal: "0000:00:00 00:00:00"}), None, False, id="zero-time"),
        pytest.param(jpeg(), None, False, id="no-time"),
    ],
)
def test_taken_at(data: bytes, taken_at: datetime | None, assumed: bool) -> None:
    facts = read_facts(data)
    assert facts.taken_at == taken_at
    assert facts.offset_assumed is assumed
    assert facts.taken_at is None or facts.taken_at.tzinfo is not None


def test_modified_at_uses_the_original_offset_when_its_own_is_missing() -> None:
    data = raw_jpeg(
        {Base.Make: MAKE, Base.DateTime: "2026:03:02 11:14:07"},
        {Base.DateTimeOriginal: "2026:03:02 11:14:07", Base.OffsetTimeOriginal: "+09:00"},
    )
    facts = read_facts(data)
    assert facts.modified_at == facts.taken_at == TAKEN
    assert facts.modified_at is not None and facts.modified_at.utcoffset() == timedelta(hours=9)


def test_software_written_as_utf8_is_read_as_utf8() -> None:
    assert read_facts(jpeg(software="美图秀秀 7.5")).software == "美图秀秀 7.5"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(jpeg(exif=False), id="no-segment"),
        pytest.param(png(), id="png"),
        pytest.param(raw_jpeg({}), id="empty-segment"),
        # An APP1 segment of 14 bytes that says "Exif" and then is not TIFF.
        pytest.param(b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00garbage!" + jpeg(exif=False)[2:], id="damaged-segment"),
    ],
)
def test_without_exif(data: bytes) -> None:
    facts = read_facts(data)
    assert not facts.has_exif
    assert (facts.location, facts.taken_at, facts.software, facts.make) == (None, None, None, None)
    assert facts.width > 0 and facts.height > 0


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"definitely not a photo", id="text"),
        pytest.param(b"\xff\xd8\xff", id="cut-jpeg"),
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", id="pdf"),
        pytest.param(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", id="gif"),
    ],
)
def test_unreadable_bytes_raise(data: bytes) -> None:
    with pytest.raises(PhotoError, match="^not a readable JPEG, PNG or WebP image") as raised:
        read_facts(data)
    assert "BytesIO" not in str(raised.value)


def test_photo_error_is_a_value_error() -> None:
    assert issubclass(PhotoError, ValueError)


def test_reading_never_decodes_pixels(monkeypatch: pytest.MonkeyPatch) -> None:
    photos = [jpeg(location=NEAR, taken_at=TAKEN), png(), webp_with_gps(NEAR)]

    def refuse(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixel data was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    assert [read_facts(data).width for data in photos] == [64, 64, 32]


def test_a_photo_is_read_from_its_file_as_from_its_bytes_and_a_bad_file_is_not_named(tmp_path: Path) -> None:
    photos = {"phone.jpg": jpeg(location=NEAR, taken_at=TAKEN), "plain.png": png(), "gps.webp": webp_with_gps(NEAR)}
    for name, data in photos.items():
        (tmp_path / name).write_bytes(data)
        assert read_facts(tmp_path / name) == read_facts(data), name
    (tmp_path / "upload-7f3a").write_bytes(b"\xff\xd8\xff")
    with pytest.raises(PhotoError, match="^not a readable JPEG, PNG or WebP image") as raised:
        read_facts(tmp_path / "upload-7f3a")
    assert "upload-7f3a" not in str(raised.value)


# WGS-84 geodesic distances (Vincenty's inverse formula) between the points given, in metres.
WEIHAI, YANTAI = GeoPoint(lat=37.5133, lon=122.1201), GeoPoint(lat=37.4638, lon=121.4479)
BEIJING, SHANGHAI_CITY = GeoPoint(lat=39.9087, lon=116.3975), GeoPoint(lat=31.2304, lon=121.4737)
YANTIAN, GUANGZHOU = GeoPoint(lat=22.5557, lon=114.2370), GeoPoint(lat=23.1291, lon=113.2644)


@pytest.mark.parametrize(
    ("a", "b", "geodesic_m"),
    [
        pytest.param(WEIHAI, YANTAI, 59_702, id="weihai-yantai"),
        pytest.param(BEIJING, SHANGHAI_CITY, 1_066_676, id="beijing-shanghai"),
        pytest.param(YANTIAN, GUANGZHOU, 118_312, id="yantian-guangzhou"),
        pytest.param(WEIHAI, YANTIAN, 1_822_289, id="weihai-yantian"),
    ],
)
def test_distance_between_cities_within_one_percent(a: GeoPoint, b: GeoPoint, geodesic_m: float) -> None:
    assert distance_m(a, b) == pytest.approx(geodesic_m, rel=0.01)
    assert distance_m(b, a) == pytest.approx(distance_m(a, b))


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param(TARGET, TARGET, 0.0, id="same-point"),
        pytest.param(GeoPoint(lat=0, lon=0), GeoPoint(lat=1, lon=0), METRES_PER_DEGREE, id="degree-of-latitude"),
        pytest.param(GeoPoint(lat=0, lon=0), GeoPoint(lat=0, lon=1), METRES_PER_DEGREE, id="degree-of-longitude-at-equator"),
        pytest.param(GeoPoint(lat=90, lon=0), GeoPoint(lat=0, lon=45), EARTH_RADIUS_M * math.pi / 2, id="pole-to-equator"),
        pytest.param(GeoPoint(lat=37.5, lon=122), GeoPoint(lat=-37.5, lon=-58), EARTH_RADIUS_M * math.pi, id="antipodes"),
        # Here rounding makes the haversine term 1.0000000000000002, past the domain of asin.
        pytest.param(
            GeoPoint(lat=3.309661790284011, lon=-89.77779913133884),
            GeoPoint(lat=-3.309661790284011, lon=90.22220086866116),
            EARTH_RADIUS_M * math.pi,
            id="antipodes-past-rounding",
        ),
        pytest.param(TARGET, NEAR, 50.0, id="near-fixture"),
        pytest.param(TARGET, FAR, 2000.0, id="far-fixture"),
    ],
)
def test_distance_exact(a: GeoPoint, b: GeoPoint, expected: float) -> None:
    assert distance_m(a, b) == pytest.approx(expected, abs=0.01)


# Each case: what the photo says, then the task's target, window and the agent's reported time.
CONTEXT: dict[str, Any] = {"target": TARGET, "window": WINDOW, "claimed_at": CLAIMED}


@pytest.mark.parametrize(
    ("data", "context", "flags"),
    [
        pytest.param(jpeg(location=NEAR, taken_at=TAKEN, software="HDR+ 1.0"), {}, [], id="near-and-on-time"),
        pytest.param(jpeg(location=TARGET, taken_at=TAKEN, modified_at=TAKEN + timedelta(seconds=3)), {}, [], id="saved-seconds-later"),
        pytest.param(jpeg(location=TARGET, taken_at=TAKEN, offset=None), {}, [], id="offset-missing-assumed-shanghai"),
        pytest.param(jpeg(location=FAR, taken_at=TAKEN), {}, [F.far_from_address], id="2-km-away"),
        pytest.param(jpeg(taken_at=TAKEN), {}, [F.no_gps], id="no-gps"),
        pytest.param(jpeg(exif=False), {}, [F.exif_stripped], id="stripped"),
        pytest.param(png(), {}, [F.exif_stripped], id="png-screenshot"),
        pytest.param(jpeg(exif=False), {"target": None}, [F.exif_stripped, F.no_reference_location], id="stripped-no-target"),
        pytest.param(jpeg(location=FAR, taken_at=TAKEN), {"target": None}, [F.no_reference_location], id="no-target"),
        pytest.param(jpeg(taken_at=TAKEN), {"target": None}, [F.no_gps, F.no_reference_location], id="no-gps-no-target"),
        pytest.param(jpeg(location=NEAR), {}, [F.time_mismatch], id="no-time"),
        pytest.param(jpeg(location=NEAR), {"window": None, "claimed_at": None}, [F.time_mismatch], id="no-time-nothing-to-compare"),
        pytest.param(jpeg(location=NEAR, taken_at=TAKEN.replace(hour=8)), {"claimed_at": None}, [F.time_mismatch], id="before-window"),
        pytest.param(jpeg(location=NEAR, taken_at=TAKEN.replace(day=3)), {"claimed_at": None}, [F.time_mismatch], id="next-day"),
        pytest.param(jpeg(location=NEAR, taken_at=TAKEN.replace(hour=8, minute=50)), {"claimed_at": None}, [], id="ten-minutes-early-tolerated"),
        pytest.param(jpeg(location=NEAR, taken_at=TAKEN.replace(hour=18, minute=14)), {"claimed_at": None}, [], id="fourteen-minutes-late-tolerated"),
        pytest.param(jpeg(location=NEAR, taken_at=TAKEN), {"claimed_at": CLAIMED + timedelta(hours=1)}, [F.time_mismatch], id="far-from-claimed"),
        pytest.param(jpeg(location=NEAR, taken_at=TAKEN), {"window": None, "claimed_at": None}, [], id="nothing-to-compare"),
        pytest.param(jpeg(location=NEAR, taken_at=datetime(2026, 3, 2, 2, 14, 7), offset=None), {}, [F.time_mismatch], id="utc-clock-read-as-shanghai"),
        pytest.param(jpeg(location=NEAR, taken_at=TAKEN, software="Adobe Photoshop 25.0 (Windows)"), {}, [F.edited_by_software], id="photoshop"),
        pytest.param(jpeg(location=NEAR, taken_at=TAKEN, modified_at=TAKEN + timedelta(minutes=30)), {}, [F.edited_by_software], id="rewritten-later"),
        pytest.param(
            jpeg(location=FAR, taken_at=TAKEN - timedelta(days=2), software="Snapseed 2.21", offset=None),
            {},
            [F.edited_by_software, F.far_from_address, F.time_mismatch],
            id="everything-wrong",
        ),
    ],
)
def test_photo_flags(data: bytes, context: dict[str, Any], flags: list[EvidenceFlag]) -> None:
    found = photo_flags(read_facts(data), **(CONTEXT | context))
    assert found == flags
    assert found == sorted(set(found))


@pytest.mark.parametrize(
    ("software", "edited"),
    [
        ("Adobe Photoshop 25.0 (Windows)", True),
        ("Adobe Photoshop Lightroom Classic 13.2 (Macintosh)", True),
        ("Adobe Photoshop Express", True),
        ("GIMP 2.10.36", True),
        ("Snapseed 2.0", True),
        ("PicsArt", True),
        ("MeituXiuXiu", True),
        ("美图秀秀", True),
        ("醒图", True),
        ("Hypic", True),
        ("VSCO", True),
        ("Pixelmator Pro 3.5", True),
        ("Affinity Photo 2", True),
        ("Facetune2", True),
        ("HDR+ 1.0.540104", False),
        ("iOS 17.5", False),
        ("17.5", False),
        ("MIUI", False),
        ("MIUI Camera", False),
        ("HarmonyOS 4.0", False),
        ("Android", False),
        ("OnePlus", False),
        ("G998BXXU5CVK1", False),
    ],
)
def test_software_table(software: str, edited: bool) -> None:
    flags = photo_flags(read_facts(jpeg(location=NEAR, taken_at=TAKEN, software=software)), **CONTEXT)
    assert (EvidenceFlag.edited_by_software in flags) is edited


def test_builder_refuses_exif_details_without_exif() -> None:
    with pytest.raises(ValueError, match="no EXIF segment"):
        jpeg(exif=False, location=NEAR)
