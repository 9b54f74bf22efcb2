"""A multipart upload read as a stream: the file part goes straight to the blob store, hashed and size-limited as it arrives."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from shared.plumbing.blobs import DRAIN_BYTES, BlobStore, BlobWriter, TooLarge
from shared.plumbing.problems import Problem

FILE_FIELD = "file"
METADATA_FIELD = "metadata"
# Metadata is a small JSON document; anything bigger is a mistake or an attack.
METADATA_LIMIT = 64 * 1024


@dataclass
class Upload:
    """What a request carried: the metadata text, and the file as an uncommitted blob write."""

    metadata: bytes | None = None
    file: BlobWriter | None = None
    filename: str | None = None
    declared_type: str | None = None

    def discard(self) -> None:
        """Drops the file written so far."""
        if self.file is not None:
            self.file.discard()


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    name: str | None = None
    field_name: bytearray = field(default_factory=bytearray)
    field_value: bytearray = field(default_factory=bytearray)
    buffer: bytearray | None = None


async def receive(request: Request, *, store: BlobStore, limit: int, head_size: int) -> Upload:
    """Reads the request's parts; the caller commits or discards `upload.file`. Raises Problem for a malformed or oversized body."""
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise Problem(415, "Unsupported media type", "Send evidence as multipart/form-data with a `file` part and a `metadata` JSON part.")
    upload = Upload()
    part = _Part()

    def header_field(data: bytes, start: int, end: int) -> None:
        part.field_name.extend(data[start:end])

    def header_value(data: bytes, start: int, end: int) -> None:
        part.field_value.extend(data[start:end])

    def header_end() -> None:
        # Kept as latin-1, byte for byte: the options parser re-encodes it so, and a UTF-8 file name (协议.pdf) is decoded from those bytes.
        part.headers[part.field_name.decode("latin-1").lower()] = part.field_value.decode("latin-1")
        part.field_name.clear()
        part.field_value.clear()

    def headers_finished() -> None:
        _, disposition = parse_options_header(part.headers.get("content-disposition", ""))
        part.name = disposition.get(b"name", b"").decode()
        if part.name == FILE_FIELD:
            if upload.file is not None:
                raise Problem(422, "Invalid evidence", "file: send one file per item")
            upload.file = store.writer(limit=limit, head_size=head_size)
            upload.filename = disposition.get(b"filename", b"").decode("utf-8", "replace") or None
            if upload.filename and "\x00" in upload.filename:
                raise Problem(422, "Invalid evidence", "file: the file name must not contain the NUL character (U+0000)")
            upload.declared_type = part.headers.get("content-type")
        elif part.name == METADATA_FIELD:
            part.buffer = bytearray()

    def part_data(data: bytes, start: int, end: int) -> None:
        if part.name == FILE_FIELD and upload.file is not None:
            # A view, not a slice: the hash and the file take the bytes where they arrived, without a copy of each chunk.
            upload.file.hold(memoryview(data)[start:end])
        elif part.buffer is not None:
            part.buffer.extend(data[start:end])
            if len(part.buffer) > METADATA_LIMIT:
                raise Problem(413, "Too large", f"metadata: larger than {METADATA_LIMIT:,} bytes")

    def part_end() -> None:
        if part.name == METADATA_FIELD and part.buffer is not None:
            upload.metadata = bytes(part.buffer)
        part.headers.clear()
        part.name, part.buffer = None, None

    parser = MultipartParser(
        boundary,
        {
            "on_header_field": header_field,
            "on_header_value": header_value,
            "on_header_end": header_end,
            "on_headers_finished": headers_finished,
            "on_part_data": part_data,
            "on_part_end": part_end,
        },
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if upload.file is not None:
                await upload.file.drain(at_least=DRAIN_BYTES)
        parser.finalize()
        if upload.file is not None:
            await upload.file.drain()
    except TooLarge as exc:
        upload.discard()
        raise Problem(413, "Too large", f"file: {exc}") from None
    except Problem:
        upload.discard()
        raise
    except Exception as exc:  # noqa: BLE001 — any parser error is the client's malformed body
        upload.discard()
        raise Problem(400, "Malformed upload", f"The multipart body could not be read: {type(exc).__name__}") from None
    return upload
