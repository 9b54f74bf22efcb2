"""The documents a court serves: one content-addressed store, each file kept once under its sha256, its type sniffed from its bytes and its pages counted."""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import zipfile
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import quote
from xml.etree import ElementTree

import structlog
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError

from shared.plumbing.blobs import DRAIN_BYTES, BlobStore, TooLarge
from shared.plumbing.problems import Problem

log = structlog.get_logger(__name__)

PDF = "application/pdf"
OFD = "application/ofd"
SHA256 = re.compile(r"^[0-9a-f]{64}$")
SUFFIXES = {PDF: ".pdf", OFD: ".ofd"}
# A served document is never a page of ours: nothing in it may run, load or be framed as if we served it.
SANDBOX_CSP = "default-src 'none'; sandbox"
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
CHUNK = 1024 * 1024
# OFD.xml and Document.xml are a few kilobytes; a bigger one is not a document but a trap (a zip bomb).
_OFD_XML_LIMIT = 4 * 1024 * 1024


class DocumentError(Exception):
    """A document cannot be stored or read; `status` is the HTTP answer it calls for."""

    status = 500


class DocumentTooLarge(DocumentError):
    """The upload is larger than the store accepts."""

    status = 413


class DocumentUnsupported(DocumentError):
    """The bytes are neither a PDF nor an OFD, whatever the file is called."""

    status = 415


class DocumentUnreadable(DocumentError):
    """The bytes open as a PDF or an OFD but cannot be read through (cut short, damaged, no pages)."""

    status = 422


class DocumentMissing(DocumentError):
    """No file is stored under the sha256."""

    status = 503


class DocumentCorrupt(DocumentError):
    """The stored file's bytes no longer hash to its name."""

    status = 500


@dataclass(frozen=True)
class StoredDocument:
    """A document as stored: its sha256, size in bytes, sniffed content type and page count."""

    sha256: str
    size: int
    content_type: str
    pages: int


def sniff(head: bytes) -> str | None:
    """Returns the content type the opening bytes claim (PDF or OFD's zip), or None for anything else."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return OFD
    return None


def pdf_pages(data: bytes) -> int:
    """Returns the pages of a PDF read through with pypdf; raises DocumentUnreadable when it is cut short or damaged."""
    # A PDF ends with %%EOF (ISO 32000-1 7.5.5); pypdf would otherwise rebuild a truncated file and count what survived.
    if b"%%EOF" not in data[-1024:]:
        raise DocumentUnreadable("the PDF is cut short: it does not end with %%EOF")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        pages = len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        raise DocumentUnreadable(f"the PDF cannot be read: {error}") from error
    if pages < 1:
        raise DocumentUnreadable("the PDF has no pages")
    return pages


def ofd_pages(data: bytes) -> int:
    """Returns the pages of an OFD (GB/T 33190): a zip whose OFD.xml names the Document.xml listing the pages."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "OFD.xml" not in names:
                raise DocumentUnsupported("a zip archive without OFD.xml is not an OFD document")
            root = _xml(archive, "OFD.xml")
            doc_root = _first_text(root, "DocRoot")
            if not doc_root:
                raise DocumentUnreadable("OFD.xml names no DocRoot")
            location = str(PurePosixPath(doc_root.lstrip("/")))
            if location not in names:
                raise DocumentUnreadable(f"OFD.xml names {doc_root}, which the archive lacks")
            pages = [element for element in _xml(archive, location).iter() if _local(element.tag) == "Page"]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as error:
        raise DocumentUnreadable(f"the OFD archive cannot be read: {error}") from error
    if not pages:
        raise DocumentUnreadable("the OFD document lists no pages")
    return len(pages)


def _xml(archive: zipfile.ZipFile, name: str) -> ElementTree.Element:
    if archive.getinfo(name).file_size > _OFD_XML_LIMIT:
        raise DocumentUnreadable(f"{name} is implausibly large")
    with archive.open(name) as member:
        data = member.read(_OFD_XML_LIMIT + 1)
    if len(data) > _OFD_XML_LIMIT:
        raise DocumentUnreadable(f"{name} is implausibly large")
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise DocumentUnreadable(f"{name} is not well-formed XML: {error}") from error


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _first_text(root: ElementTree.Element, name: str) -> str | None:
    for element in root.iter():
        if _local(element.tag) == name:
            return (element.text or "").strip()
    return None


def examine(data: bytes) -> tuple[str, int]:
    """Returns a document's content type and page count from its bytes; raises DocumentUnsupported or DocumentUnreadable."""
    content_type = sniff(data[:8])
    if content_type == PDF:
        return PDF, pdf_pages(data)
    if content_type == OFD:
        return OFD, ofd_pages(data)
    raise DocumentUnsupported("only PDF and OFD documents are accepted (judged by the file's bytes, not its name)")


class DocumentStore:
    """Documents under `root/<aa>/<sha256>` (a BlobStore one level deep): written to a temporary file while hashed, made durable, renamed into place; every read checks the hash."""

    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._blobs = BlobStore(root, levels=1)

    def path(self, sha256: str) -> Path:
        """Returns where a document lives; refuses anything but a sha256 so no name reaches outside the store."""
        return self._blobs.path(sha256)

    def exists(self, sha256: str) -> bool:
        """Tells whether a document is stored under the sha256."""
        return self._blobs.exists(sha256)

    async def put(self, source: bytes | AsyncIterable[bytes]) -> StoredDocument:
        """Stores a PDF or OFD once (an identical one already stored is left as it is) and returns what it is; raises DocumentTooLarge, DocumentUnsupported or DocumentUnreadable and keeps nothing then."""
        writer = self._blobs.writer(limit=self.max_bytes, head_size=0)
        try:
            buffer = bytearray()
            try:
                async for chunk in _chunks(source):
                    writer.hold(chunk)
                    await writer.drain(at_least=DRAIN_BYTES)
                    buffer.extend(chunk)
                await writer.drain()
            except TooLarge as error:
                raise DocumentTooLarge(str(error)) from error
            # Parsing and fsync block for a while on a big file; the event loop keeps serving meanwhile.
            content_type, pages = await asyncio.to_thread(examine, bytes(buffer))
            stored = await asyncio.to_thread(writer.commit)
        except BaseException:
            await asyncio.to_thread(writer.discard)
            raise
        return StoredDocument(sha256=stored.sha256, size=stored.size, content_type=content_type, pages=pages)

    def read(self, sha256: str) -> bytes:
        """Returns a stored document's bytes after checking they still hash to its name; raises DocumentMissing or DocumentCorrupt."""
        try:
            data = self.path(sha256).read_bytes()
        except FileNotFoundError as error:
            raise DocumentMissing(f"no document {sha256} in the store at {self.root}") from error
        if hashlib.sha256(data).hexdigest() != sha256:
            raise DocumentCorrupt(f"the stored document {sha256} no longer matches its hash")
        return data


async def _chunks(source: bytes | AsyncIterable[bytes]) -> AsyncIterable[bytes]:
    if isinstance(source, bytes | bytearray):
        for start in range(0, len(source), CHUNK):
            yield bytes(source[start : start + CHUNK])
        return
    async for chunk in source:
        yield chunk


def served_headers(*, sha256: str, title: str, content_type: str, disposition: str) -> dict[str, str]:
    """Returns the headers a document is served with: shown in place (`inline`) or saved (`attachment`) under its title, sandboxed, its sha256 as the ETag."""
    suffix = SUFFIXES.get(content_type, "")
    # The ASCII name for old clients, the title itself (RFC 5987) for the rest.
    named = f"{disposition}; filename=\"{sha256[:16]}{suffix}\"; filename*=UTF-8''{quote(title + suffix, safe='')}"
    return {"Content-Disposition": named, "ETag": f'"{sha256}"', "Content-Security-Policy": SANDBOX_CSP, "Cache-Control": "private, no-store"}


async def read_or_problem(store: DocumentStore, sha256: str, **context: str) -> bytes:
    """Reads a stored document off the event loop; a missing (503) or changed (500) file is logged as an error and answered as a problem, never as empty bytes."""
    try:
        return await asyncio.to_thread(store.read, sha256)
    except DocumentMissing as error:
        log.error("document.missing", sha256=sha256, store=str(store.root), **context)
        raise Problem(503, "Document unavailable", f"The file of document {sha256} is not in the document store; the operator has been alerted.") from error
    except DocumentCorrupt as error:
        log.error("document.corrupt", sha256=sha256, store=str(store.root), **context)
        raise Problem(500, "Document corrupt", f"The file of document {sha256} no longer matches its sha256; the operator has been alerted.") from error


def merge_pdfs(parts: list[bytes]) -> bytes:
    """Returns the PDFs one after another as one PDF, each page as it was."""
    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
