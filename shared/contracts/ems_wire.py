"""EMS open-platform wire format: the encrypted request form, the answer envelope, traces, Beijing times and push digests."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from shared.plumbing.clock import SHANGHAI, utc

API_CREATE_WAYBILL = "020003"
API_CANCEL_WAYBILL = "020006"
API_TRACK = "040001"
# Modelled by Songda (docs/ems.md): the scan of an item's return receipt card, which EMS's open platform does not publish.
API_RECEIPT_SCAN = "040005"

RET_OK = "00000"
RET_UNAUTHORISED = "S00001"
RET_UNDECRYPTABLE = "S00002"
RET_UNKNOWN_API = "S00003"
RET_INVALID_FIELD = "B00001"
RET_NO_WAYBILL = "B00002"
RET_NOT_CANCELLABLE = "B00003"
RET_OUT_OF_AREA = "B00004"
# Modelled with 040005: the receipt card is not back and scanned yet; asking again later may find it.
RET_NO_RECEIPT = "B00005"

DIGEST_HEADER = "X-EMS-Digest"
# EMS's own spelling of the form field that carries the encrypted payload.
PAYLOAD_FIELD = "logitcsInterface"
# Marks the payload as SM4-encrypted, the fourth of EMS's cipher choices.
CIPHER_PREFIX = "|$4|"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
KEY_BYTES = 16


class WireError(ValueError):
    """Text that is not what EMS's wire format says it should be."""


def decode_key(text: str) -> bytes:
    """Returns the 16-byte SM4 key from its base64 text."""
    try:
        key = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise WireError("the SM4 key is not base64") from None
    if len(key) != KEY_BYTES:
        raise WireError(f"the SM4 key must be {KEY_BYTES} bytes, got {len(key)}")
    return key


def _cipher(key: bytes) -> Cipher[modes.ECB]:
    return Cipher(algorithms.SM4(key), modes.ECB())


def encrypt(payload: dict[str, Any], key: bytes) -> str:
    """Returns the payload as EMS carries it: `|$4|` + base64(SM4-ECB of the PKCS#7-padded UTF-8 JSON)."""
    padder = padding.PKCS7(128).padder()
    plain = padder.update(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()) + padder.finalize()
    encryptor = _cipher(key).encryptor()
    return CIPHER_PREFIX + base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def decrypt(text: str, key: bytes) -> dict[str, Any]:
    """Returns the JSON object inside an encrypted payload; raises WireError when anything about it is wrong."""
    if not text.startswith(CIPHER_PREFIX):
        raise WireError(f"the payload does not start with {CIPHER_PREFIX}")
    try:
        sealed = base64.b64decode(text.removeprefix(CIPHER_PREFIX), validate=True)
    except binascii.Error:
        raise WireError("the payload is not base64") from None
    if not sealed or len(sealed) % 16:
        raise WireError("the payload is not whole SM4 blocks")
    decryptor = _cipher(key).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        plain = unpadder.update(decryptor.update(sealed) + decryptor.finalize()) + unpadder.finalize()
        payload = json.loads(plain.decode())
    except (ValueError, UnicodeDecodeError):
        # A wrong key shows up here: its padding, text or JSON comes out as noise.
        raise WireError("the payload does not decrypt to JSON with this key") from None
    if not isinstance(payload, dict):
        raise WireError("the payload is not a JSON object")
    return payload


def format_time(moment: datetime) -> str:
    """Returns `moment` as EMS writes times: Beijing time, `YYYY-MM-DD HH:MM:SS`."""
    return utc(moment).astimezone(SHANGHAI).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    """Returns the aware UTC instant of an EMS time, which is Beijing time without an offset."""
    try:
        local = datetime.strptime(text, TIME_FORMAT)
    except ValueError:
        raise WireError(f"not an EMS time (YYYY-MM-DD HH:MM:SS): {text!r}") from None
    return utc(local.replace(tzinfo=SHANGHAI))


def request_form(api_code: str, payload: dict[str, Any], *, sender_no: str, authorization: str, key: bytes, now: datetime) -> dict[str, str]:
    """Returns the form fields of a POST to /api/gateway."""
    return {
        "senderNo": sender_no,
        "apiCode": api_code,
        "authorization": authorization,
        "msgType": "JSON",
        "timeStamp": format_time(now),
        PAYLOAD_FIELD: encrypt(payload, key),
    }


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True, frozen=True)


class Answer(_Wire):
    """EMS's answer to every business request, successful or refused."""

    serial_no: str
    ret_code: str
    ret_msg: str
    ret_date: str
    ret_body: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """Tells whether EMS did what was asked."""
        return self.ret_code == RET_OK


class Trace(_Wire):
    """One tracking node; EMS leaves out what a node has no use for."""

    waybill_no: str
    op_time: str
    op_code: str
    op_name: str
    op_desc: str | None = None
    op_org_code: str | None = None
    op_org_name: str | None = None
    operator_name: str | None = None
    deliver_code: str | None = None
    attempt_delivery_code: str | None = None

    def wire(self) -> dict[str, str]:
        """Returns the node as EMS sends it, without the fields it leaves out."""
        return self.model_dump(exclude_none=True)


class ReceiptScan(_Wire):
    """A 040005 answer body: the scanned return receipt card, base64 in `image`."""

    waybill_no: str
    image_type: str
    image: str

    def content(self) -> bytes:
        """Returns the scan's bytes; raises WireError when `image` is not base64 of something."""
        try:
            data = base64.b64decode(self.image, validate=True)
        except binascii.Error:
            raise WireError("the receipt scan is not base64") from None
        if not data:
            raise WireError("the receipt scan is empty")
        return data


class Traces(_Wire):
    """The traces a push carries, or a tracking query's answer body."""

    waybill_no: str | None = None
    traces: list[Trace]


def digest(body: bytes, secret: str) -> str:
    """Returns the X-EMS-Digest of a push body: base64(HMAC-SHA256(secret, body))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify_digest(body: bytes, secret: str, header: str | None) -> bool:
    """Tells whether a push's X-EMS-Digest header was made from this body with this secret."""
    return header is not None and hmac.compare_digest(digest(body, secret).encode(), header.strip().encode())
