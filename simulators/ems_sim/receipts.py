"""The scanned return receipt card (回执) 040005 answers with: a PNG drawn from the item's own facts, the same bytes every time."""

from __future__ import annotations

import io
from datetime import date

from PIL import Image, ImageDraw, ImageFont

from simulators.ems_sim.codes import Signer

CONTENT_TYPE = "image/png"
# Pillow's built-in font has no CJK glyphs, so the card names the relation in English.
RELATIONS: dict[Signer, str] = {
    "recipient": "recipient in person",
    "family": "family member",
    "mail_room": "mail room",
    "other": "other (neighbour)",
}
SIZE = (480, 300)


def card(*, waybill_no: str, signer: Signer, signed_on: date) -> bytes:
    """Returns the PNG of a receipt card; nothing random or time-dependent goes in, so a waybill's scan never changes."""
    image = Image.new("L", SIZE, color=255)
    draw = ImageDraw.Draw(image)
    title, body = ImageFont.load_default(size=20), ImageFont.load_default(size=16)
    draw.rectangle((8, 8, SIZE[0] - 9, SIZE[1] - 9), outline=0, width=3)
    draw.text((24, 22), "EMS COURT MAIL - RETURN RECEIPT", font=title, fill=0)
    draw.line((24, 54, SIZE[0] - 24, 54), fill=0, width=1)
    rows = (("Waybill No.", waybill_no), ("Signer relation", RELATIONS[signer]), ("Signing date", signed_on.isoformat()))
    for index, (label, value) in enumerate(rows):
        draw.text((24, 72 + 32 * index), f"{label}:", font=body, fill=0)
        draw.text((180, 72 + 32 * index), value, font=body, fill=0)
    draw.text((24, 196), "Signature / seal:", font=body, fill=0)
    draw.rectangle((180, 180, 320, 260), outline=0, width=1)
    # The delivery station's round date stamp, as on a real card.
    draw.ellipse((350, 176, 446, 272), outline=0, width=2)
    draw.text((368, 214), signed_on.strftime("%Y.%m.%d"), font=ImageFont.load_default(size=11), fill=0)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
