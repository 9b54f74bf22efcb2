"""What a photo must show to stand as proof of place and time (Interp. 138, CPL 89), and the flags it raises when it does not."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared.contracts.events import GeoPoint
from shared.contracts.evidence import EvidenceFlag

if TYPE_CHECKING:
    # The type alone: the rules stay pure and never load Pillow.
    from services.evidence.photos import PhotoFacts

# Mean Earth radius (IUGG R1). A sphere is within 0.5% of the ellipsoid: a metre at 200 m, far below GPS error.
EARTH_RADIUS_M = 6_371_008.8

# Thresholds of the photo checks. Each is a judgement, not law; they live here so they can be tuned in one place.
#
# A posting photo must show the place (Interp. 138), as must a photo of documents left on a refusal (CPL 89).
# Phone GPS is good to 5–20 m in the open and 50–100 m between tall buildings, and the target's coordinates are
# a geocoded point somewhere on the address's building or compound; 200 m allows for both without admitting
# the next block.
MAX_DISTANCE_M = 200.0
# The same photos must show the time (Interp. 138). Phones set their clocks from the network, but stand-alone
# cameras drift minutes a month and an agent's reported time is rounded; 15 minutes absorbs both without
# letting a photo from an earlier or later visit stand in.
TIME_TOLERANCE = timedelta(minutes=15)
# A camera writes DateTime as it saves the file, seconds after DateTimeOriginal even with HDR or night-mode
# stacking; a DateTime later than this means something rewrote the file after it was taken.
EDIT_TOLERANCE = timedelta(minutes=2)
# Software tags (lower-case fragments) of editors and retouching apps. Camera firmware ("HDR+ 1.0", "iOS 17.5",
# "MIUI") is absent on purpose: it writes the tag on every untouched photo.
EDITORS = (
    # Desktop and raw editors.
    "photoshop",
    "lightroom",
    "gimp",
    "pixelmator",
    "affinity",
    "capture one",
    "luminar",
    "darktable",
    "rawtherapee",
    "paint.net",
    "photopea",
    # Phone editors and beauty apps, including those common in China (美图秀秀, 醒图/Hypic, 美颜相机, 黄油相机).
    "snapseed",
    "picsart",
    "vsco",
    "facetune",
    "polarr",
    "fotor",
    "meitu",
    "美图",
    "醒图",
    "hypic",
    "beautycam",
    "美颜",
    "黄油相机",
)


def distance_m(a: GeoPoint, b: GeoPoint) -> float:
    """Returns the great-circle distance in metres between two points (haversine on the mean Earth radius)."""
    lat_a, lat_b = math.radians(a.lat), math.radians(b.lat)
    h = math.sin((lat_b - lat_a) / 2) ** 2 + math.cos(lat_a) * math.cos(lat_b) * math.sin(math.radians(b.lon - a.lon) / 2) ** 2
    # Rounding can push h a hair past 1 for antipodal points, where asin is undefined.
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(h, 1.0)))


def photo_flags(
    facts: PhotoFacts,
    *,
    target: GeoPoint | None,
    window: tuple[datetime, datetime] | None,
    claimed_at: datetime | None,
) -> list[EvidenceFlag]:
    """Returns, sorted, what is doubtful about a photo as proof of place and time (Interp. 138, CPL 89)."""
    flags: set[EvidenceFlag] = set()
    if target is None:
        # The address has no coordinates: nothing to measure against. That gap is ours, so it is raised whatever the photo holds.
        flags.add(EvidenceFlag.no_reference_location)
    if not facts.has_exif:
        # One cause, one flag: without EXIF, no_gps and time_mismatch would only restate exif_stripped, which blocks already.
        flags.add(EvidenceFlag.exif_stripped)
        return sorted(flags)
    if facts.location is None:
        flags.add(EvidenceFlag.no_gps)
    elif target is not None and distance_m(facts.location, target) > MAX_DISTANCE_M:
        flags.add(EvidenceFlag.far_from_address)
    if _time_mismatch(facts.taken_at, window, claimed_at):
        flags.add(EvidenceFlag.time_mismatch)
    if _edited(facts):
        flags.add(EvidenceFlag.edited_by_software)
    return sorted(flags)


def _time_mismatch(taken_at: datetime | None, window: tuple[datetime, datetime] | None, claimed_at: datetime | None) -> bool:
    """Tells whether the photo's time is missing, outside the task's window or away from the time the agent reported."""
    if taken_at is None:
        # A photo that states no time cannot show the time Interp. 138 asks for.
        return True
    if window is not None:
        start, end = window
        if not start - TIME_TOLERANCE <= taken_at <= end + TIME_TOLERANCE:
            return True
    return claimed_at is not None and abs(taken_at - claimed_at) > TIME_TOLERANCE


def _edited(facts: PhotoFacts) -> bool:
    """Tells whether an editor's name is in the Software tag or the file was rewritten well after it was taken."""
    software = (facts.software or "").casefold()
    if any(editor in software for editor in EDITORS):
        return True
    return facts.taken_at is not None and facts.modified_at is not None and facts.modified_at - facts.taken_at > EDIT_TOLERANCE
