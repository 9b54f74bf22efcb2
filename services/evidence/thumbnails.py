"""Small JPEG previews of photo evidence for the courts' pages: turned upright as the camera meant, shrunk, and stripped of every tag the original carries."""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from services.evidence.photos import FORMATS, PhotoError
from services.evidence.sniffing import PHOTOS
from shared.contracts.evidence import EvidenceKind

# The long side of a preview, in pixels: a phone's thumbnail row, and small enough to send many at once.
LONGEST = 320
# The kinds whose content is a picture of something (a scan or a PDF receipt is not: its type decides).
PICTURE_KINDS = frozenset({EvidenceKind.photo, EvidenceKind.signature, EvidenceKind.signed_receipt, EvidenceKind.return_receipt_scan})
# A signature drawn on a transparent canvas is laid on white paper, as it would be printed.
PAPER = (255, 255, 255)


def has_thumbnail(kind: str, content_type: str) -> bool:
    """Tells whether an item is a picture a preview can be made of."""
    return kind in PICTURE_KINDS and content_type in PHOTOS


def thumbnail(data: bytes, *, longest: int = LONGEST) -> bytes:
    """Returns a JPEG at most `longest` pixels on its long side, turned by its EXIF orientation, with no EXIF (position, camera, times) left in it."""
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            # A JPEG is decoded at a fraction of its size when that is enough: a phone's 12 MP photo need not be read whole.
            image.draft("RGB", (longest, longest))
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((longest, longest))
            flat = _on_paper(upright)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise PhotoError("not a readable JPEG, PNG or WebP image") from exc
    out = io.BytesIO()
    # Saved without exif= or icc_profile=: Pillow writes none of the original's metadata into the new file.
    flat.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def _on_paper(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGB", rgba.size, PAPER)
        paper.paste(rgba, mask=rgba.getchannel("A"))
        return paper
    return image.convert("RGB")
