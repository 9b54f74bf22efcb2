"""What an upload is, judged from its first bytes rather than its name, and which types each kind of evidence may be."""

from __future__ import annotations

import codecs
import json
import re

import filetype

from shared.contracts.evidence import EvidenceKind

# filetype looks no further than 8 KiB, and the text checks need only the opening of a document.
HEAD_BYTES = 8192

# Only what Pillow can read the EXIF of: a photo we cannot check is refused rather than taken unchecked (HEIC would need pillow-heif).
PHOTOS = frozenset({"image/jpeg", "image/png", "image/webp"})
# Phone call recorders write MP3, M4A, AAC, AMR, WAV or Ogg; these are filetype's names for them.
_AUDIO = frozenset({"audio/mpeg", "audio/mp4", "audio/aac", "audio/amr", "audio/x-wav", "audio/ogg"})
# A receipt is the provider's record (JSON), a copy of it (text, PDF) or a screenshot of it.
_RECEIPTS = PHOTOS | {"application/json", "text/plain", "application/pdf"}

ALLOWED: dict[EvidenceKind, frozenset[str]] = {
    EvidenceKind.photo: PHOTOS,
    EvidenceKind.video: frozenset({"video/mp4", "video/quicktime"}),
    # A call is kept as its recording or as the telephony provider's call record.
    EvidenceKind.call_record: _AUDIO | {"application/json"},
    EvidenceKind.sms_receipt: _RECEIPTS,
    EvidenceKind.email_receipt: _RECEIPTS | {"message/rfc822"},
    EvidenceKind.edelivery_receipt: _RECEIPTS,
    EvidenceKind.ems_trace: frozenset({"application/json"}),
    EvidenceKind.return_receipt_scan: frozenset({"image/jpeg", "image/png", "application/pdf"}),
    # A signature drawn on screen is exported by the canvas as PNG; a signed 送达回证 is photographed or scanned.
    EvidenceKind.signature: frozenset({"image/png"}),
    EvidenceKind.signed_receipt: frozenset({"image/jpeg", "image/png", "application/pdf"}),
    # A firm's signed standing agreement, scanned or photographed.
    EvidenceKind.firm_agreement: frozenset({"application/pdf", "image/jpeg", "image/png"}),
}

# C0 controls other than tab, line feed, form feed and carriage return, and DEL, never occur in text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# An object opening with a key or closing, or an array opening with a value or closing: prose rarely does either.
_JSON_OPENING = re.compile(r'\s*(\{\s*["}]|\[\s*[\[{"\]\-0-9tfn])')
# RFC 5322 header field: a name of printable ASCII other than the colon, then the colon.
_HEADER_FIELD = re.compile(r"[!-9;-~]+:")
_MAIL_FIELDS = frozenset(
    {
        "received",
        "return-path",
        "delivered-to",
        "dkim-signature",
        "message-id",
        "mime-version",
        "from",
        "sender",
        "reply-to",
        "to",
        "cc",
        "subject",
        "date",
    }
)


def sniff(head: bytes) -> str | None:
    """Returns the content type the first HEAD_BYTES of an upload show, or None when they show none we know."""
    head = head[:HEAD_BYTES]
    if not head:
        return None
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    # A head shorter than HEAD_BYTES is the whole upload; a full one may end mid-character, mid-line or mid-document.
    complete = len(head) < HEAD_BYTES
    text = _text(head, complete=complete)
    if text is None:
        return None
    if _is_json(text, complete=complete):
        return "application/json"
    if _is_email(text, complete=complete):
        return "message/rfc822"
    return "text/plain"


def acceptable(kind: EvidenceKind, content_type: str) -> bool:
    """Tells whether a content type may be stored as this kind of evidence, ignoring parameters such as charset."""
    return content_type.split(";", 1)[0].strip().lower() in ALLOWED[kind]


def _text(head: bytes, *, complete: bool) -> str | None:
    """Returns the head decoded as UTF-8 (a BOM dropped), or None when it is not UTF-8 text."""
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=complete)
    except UnicodeDecodeError:
        return None
    return None if _CONTROL.search(text) else text


def _is_json(text: str, *, complete: bool) -> bool:
    """Tells whether the text is a JSON object or array; a cut one is judged by its opening alone."""
    if not _JSON_OPENING.match(text):
        return False
    if not complete:
        return True
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _is_email(text: str, *, complete: bool) -> bool:
    """Tells whether the text opens with an RFC 822 header block that names at least one field of e-mail."""
    lines = re.split(r"\r?\n", text)
    if not complete:
        # The last line may be cut in the middle of a field name.
        lines.pop()
    names: set[str] = set()
    for index, line in enumerate(lines):
        if not line:
            break
        if index and line[0] in " \t":
            continue
        field = _HEADER_FIELD.match(line)
        if field is None:
            return False
        names.add(field.group()[:-1].lower())
    return not names.isdisjoint(_MAIL_FIELDS)
