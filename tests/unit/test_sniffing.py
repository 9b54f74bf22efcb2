"""Content sniffing: what the first bytes of an upload show, and which types each kind of evidence accepts."""

from __future__ import annotations

import io
import json
from email.message import EmailMessage

import pytest
from PIL import Image

from services.evidence.sniffing import ALLOWED, HEAD_BYTES, acceptable, sniff
from shared.contracts.evidence import EvidenceKind
from simulators.camera import jpeg, png


def pillow(format: str) -> bytes:
    """Returns a small picture written by Pillow in the given format."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 120, 200)).save(buffer, format)
    return buffer.getvalue()


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    """Returns an ISO-BMFF file type box, the opening of MP4, MOV, M4A and HEIC files, followed by an empty media box."""
    body = b"ftyp" + major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return (4 + len(body)).to_bytes(4, "big") + body + b"\x00\x00\x00\x08mdat"


def email() -> bytes:
    """Returns an e-mail as a mail server stores it, its long header folded onto continuation lines."""
    message = EmailMessage()
    message["Received"] = "from mx.court.example (mx.court.example [10.0.0.5]) by mail.lawfirm.example with ESMTPS id 4Q1x; Mon, 2 Mar 2026 10:14:07 +0800"
    message["From"] = "环翠区人民法院 <songda@court.example>"
    message["To"] = "lawyer@lawfirm.example"
    message["Subject"] = "送达通知 (2026)鲁1002民初123号"
    message["Date"] = "Mon, 2 Mar 2026 10:14:07 +0800"
    message.set_content("请查收附件中的诉讼文书。")
    return message.as_bytes()


LONG_JSON = json.dumps({"traces": [{"waybillNo": "1100123456789", "opCode": "306", "opName": "到达投递机构"}] * 200}, ensure_ascii=False).encode()
LONG_TEXT = ("当事人拒绝签收，送达人员将诉讼文书留置于其住所并拍照记录。" * 200).encode()


def long_headers() -> bytes:
    """Returns an e-mail whose header block outlasts the head, which ends inside a field name ("Rece|ived:")."""
    received = b"Received: from relay.example by mx.court.example; Mon, 2 Mar 2026 10:14:07 +0800\r\n"
    lines = b"MIME-Version: 1.0\r\n" + received * ((HEAD_BYTES - 200) // len(received))
    # A Subject line long enough to put the cut exactly 4 bytes into the next field.
    subject = b"Subject: " + b"x" * (HEAD_BYTES - len(lines) - len(b"Subject: \r\nRece")) + b"\r\n"
    return lines + subject + received + b"\r\nbody\r\n"


LONG_HEADERS = long_headers()


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        # Binary formats, recognised by filetype.
        pytest.param(jpeg(), "image/jpeg", id="jpeg"),
        pytest.param(jpeg(exif=False), "image/jpeg", id="jpeg-without-exif"),
        pytest.param(png(), "image/png", id="png"),
        pytest.param(pillow("WEBP"), "image/webp", id="webp"),
        pytest.param(pillow("GIF"), "image/gif", id="gif"),
        pytest.param(pillow("PDF"), "application/pdf", id="pdf-by-pillow"),
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "application/pdf", id="pdf-header"),
        pytest.param(ftyp(b"heic", b"mif1", b"heic"), "image/heic", id="heic"),
        pytest.param(ftyp(b"mif1", b"mif1", b"heic"), "image/heic", id="heif-with-heic-brand"),
        pytest.param(ftyp(b"mp42", b"mp42", b"isom"), "video/mp4", id="mp4"),
        pytest.param(ftyp(b"isom", b"isom", b"iso2", b"avc1"), "video/mp4", id="mp4-isom"),
        pytest.param(ftyp(b"qt  ", b"qt  "), "video/quicktime", id="mov"),
        pytest.param(ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), "audio/mp4", id="m4a"),
        pytest.param(b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x00", "audio/mpeg", id="mp3-id3"),
        pytest.param(b"\xff\xfb\x90\x00" + bytes(64), "audio/mpeg", id="mp3-frame"),
        pytest.param(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00", "audio/x-wav", id="wav"),
        pytest.param(b"#!AMR\n\x3c\x91\x17\x16\xbe\x66\x78\x00", "audio/amr", id="amr"),
        pytest.param(b"\xff\xf1\x50\x80\x02\x1f\xfc", "audio/aac", id="aac-adts"),
        pytest.param(b"OggS\x00\x02" + bytes(20), "audio/ogg", id="ogg"),
        pytest.param(b"PK\x03\x04\x14\x00\x00\x00", "application/zip", id="zip"),
        # JSON: an object or array that parses, or one cut at HEAD_BYTES that opens like one.
        pytest.param(b'{"waybillNo": "1100123456789", "traces": []}', "application/json", id="json-object"),
        pytest.param(b'  \n[{"opCode": "704", "opDesc": "\xe6\x9c\xac\xe4\xba\xba\xe7\xad\xbe\xe6\x94\xb6"}]\n', "application/json", id="json-array"),
        pytest.param(b"\xef\xbb\xbf{}", "application/json", id="json-with-bom"),
        pytest.param(LONG_JSON, "application/json", id="json-longer-than-head"),
        pytest.param(b'{"waybillNo": }', "text/plain", id="broken-json-is-text"),
        pytest.param(b"[INFO] call answered after 3 rings", "text/plain", id="bracketed-prose"),
        pytest.param(b"42", "text/plain", id="bare-number"),
        # E-mail: a header block of well-formed fields, at least one of them a mail field.
        pytest.param(email(), "message/rfc822", id="email"),
        pytest.param(b"From: a@court.example\nTo: b@lawfirm.example\n\nHello", "message/rfc822", id="email-lf"),
        pytest.param(b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n", "message/rfc822", id="mime-version"),
        pytest.param(LONG_HEADERS, "message/rfc822", id="headers-longer-than-head"),
        pytest.param(b"Note: call back\nafter lunch", "text/plain", id="colon-in-prose"),
        pytest.param("From: 张三\n今天已送达".encode(), "text/plain", id="one-header-then-prose"),
        pytest.param(b" Received: indented", "text/plain", id="indented-first-line"),
        # Text: UTF-8 without control characters, possibly cut mid-character at HEAD_BYTES.
        pytest.param("送达回证已签收。\n".encode(), "text/plain", id="chinese-text"),
        pytest.param(b"Delivered to the mail room.\r\n", "text/plain", id="ascii-text"),
        pytest.param(LONG_TEXT, "text/plain", id="text-cut-mid-character"),
        # Unknown.
        pytest.param(b"", None, id="empty"),
        pytest.param(bytes(range(32)) * 4, None, id="binary"),
        pytest.param("送达".encode("gbk"), None, id="gbk-text"),
        pytest.param(b"abc\x00def", None, id="nul-in-text"),
        pytest.param("送达".encode()[:-1], None, id="complete-text-ending-mid-character"),
    ],
)
def test_sniff(data: bytes, content_type: str | None) -> None:
    assert sniff(data) == content_type
    assert sniff(data[:HEAD_BYTES]) == content_type


def test_long_fixtures_exceed_the_head() -> None:
    # The cut cases above test nothing unless the cut happens, mid-character for the text.
    assert min(len(LONG_JSON), len(LONG_TEXT), len(LONG_HEADERS)) > HEAD_BYTES
    with pytest.raises(UnicodeDecodeError):
        LONG_TEXT[:HEAD_BYTES].decode()
    assert LONG_HEADERS[:HEAD_BYTES].endswith(b"\r\nRece")


def test_every_kind_has_allowed_types() -> None:
    assert set(ALLOWED) == set(EvidenceKind)
    assert all(ALLOWED.values())


K = EvidenceKind


@pytest.mark.parametrize(
    ("kind", "content_type", "allowed"),
    [
        (K.photo, "image/jpeg", True),
        (K.photo, "image/png", True),
        (K.photo, "image/heic", False),
        (K.photo, "image/webp", True),
        (K.photo, "image/gif", False),
        (K.photo, "application/pdf", False),
        (K.video, "video/mp4", True),
        (K.video, "video/quicktime", True),
        (K.video, "audio/mp4", False),
        (K.call_record, "audio/mpeg", True),
        (K.call_record, "audio/mp4", True),
        (K.call_record, "audio/amr", True),
        (K.call_record, "audio/x-wav", True),
        (K.call_record, "application/json", True),
        (K.call_record, "video/mp4", False),
        (K.call_record, "text/plain", False),
        (K.sms_receipt, "application/json", True),
        (K.sms_receipt, "text/plain", True),
        (K.sms_receipt, "application/pdf", True),
        (K.sms_receipt, "image/png", True),
        (K.sms_receipt, "message/rfc822", False),
        (K.email_receipt, "message/rfc822", True),
        (K.email_receipt, "image/jpeg", True),
        (K.edelivery_receipt, "application/json", True),
        (K.edelivery_receipt, "message/rfc822", False),
        (K.ems_trace, "application/json", True),
        (K.ems_trace, "text/plain", False),
        (K.return_receipt_scan, "image/jpeg", True),
        (K.return_receipt_scan, "image/png", True),
        (K.return_receipt_scan, "application/pdf", True),
        (K.return_receipt_scan, "image/webp", False),
        (K.return_receipt_scan, "application/zip", False),
        (K.signature, "image/png", True),
        (K.signature, "image/jpeg", False),
        (K.signature, "application/pdf", False),
        (K.signed_receipt, "image/jpeg", True),
        (K.signed_receipt, "image/png", True),
        (K.signed_receipt, "application/pdf", True),
        (K.signed_receipt, "image/webp", False),
        # Declared types carry parameters and any case.
        (K.ems_trace, "application/json; charset=utf-8", True),
        (K.photo, "IMAGE/JPEG", True),
    ],
)
def test_acceptable(kind: EvidenceKind, content_type: str, allowed: bool) -> None:
    assert acceptable(kind, content_type) is allowed


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        pytest.param(jpeg(), K.photo, id="photo"),
        pytest.param(png(), K.sms_receipt, id="sms-screenshot"),
        pytest.param(email(), K.email_receipt, id="email"),
        pytest.param(LONG_JSON, K.ems_trace, id="ems-trace"),
        pytest.param(pillow("PDF"), K.return_receipt_scan, id="receipt-scan"),
        pytest.param(png(), K.signature, id="drawn-signature"),
        pytest.param(pillow("PDF"), K.signed_receipt, id="signed-receipt-scan"),
        pytest.param(jpeg(), K.signed_receipt, id="signed-receipt-photo"),
    ],
)
def test_sniffed_uploads_are_acceptable(data: bytes, kind: EvidenceKind) -> None:
    content_type = sniff(data[:HEAD_BYTES])
    assert content_type is not None and acceptable(kind, content_type)
