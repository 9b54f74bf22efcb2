"""Content-addressed files: written once under their sha256, never changed or removed by any code path (evidence's blobs, the courts' documents)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_SHA256 = re.compile(r"[0-9a-f]{64}")
# Held chunks are hashed and written by a worker thread this many bytes at a time: on the event loop the hash and the
# writes (which wait on the journal while other blobs fsync) held up every other request.
DRAIN_BYTES = 1024 * 1024


class TooLarge(ValueError):
    """An upload went past the size limit."""


@dataclass(frozen=True)
class Stored:
    """A blob as written: its digest, size and first bytes (for sniffing)."""

    sha256: str
    size: int
    head: bytes


class BlobStore:
    """Blobs under `root/ab/cd/<sha256>` (`levels` directories of two hex digits); a blob is written to a temporary file first and renamed into place whole."""

    def __init__(self, root: Path, *, levels: int = 2) -> None:
        self.root = root
        self.levels = levels
        self._incoming: Path | None = None

    def incoming(self) -> Path:
        """Returns the directory writes start in, made on first use."""
        if self._incoming is None:
            incoming = self.root / "incoming"
            incoming.mkdir(parents=True, exist_ok=True)
            self._incoming = incoming
        return self._incoming

    def path(self, sha256: str) -> Path:
        """Returns where a blob lives; refuses anything but a sha256 so no name can reach outside the store."""
        if not _SHA256.fullmatch(sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root.joinpath(*(sha256[2 * level : 2 * level + 2] for level in range(self.levels)), sha256)

    def exists(self, sha256: str) -> bool:
        """Tells whether the blob is stored."""
        return self.path(sha256).is_file()

    def writer(self, *, limit: int, head_size: int) -> BlobWriter:
        """Starts a streamed write of at most `limit` bytes."""
        return BlobWriter(self, limit=limit, head_size=head_size)

    def put(self, data: bytes) -> Stored:
        """Stores bytes already in memory (metadata-only evidence)."""
        writer = self.writer(limit=len(data), head_size=len(data))
        writer.write(data)
        return writer.commit()


class BlobWriter:
    """Hashes and writes chunks as they arrive; `commit` moves the file to its address, `discard` drops it."""

    def __init__(self, store: BlobStore, *, limit: int, head_size: int) -> None:
        self._store = store
        self._limit = limit
        self._head_size = head_size
        self._digest = hashlib.sha256()
        self._head = bytearray()
        self.size = 0
        self._held: list[bytes | memoryview] = []
        self._held_size = 0
        # Opened by the first write, so that a writer made on the event loop touches no disk there.
        self._file: BinaryIO | None = None
        self._temp: Path | None = None

    def write(self, chunk: bytes | memoryview) -> None:
        """Adds a chunk; raises TooLarge past the limit (the caller discards)."""
        self.size += len(chunk)
        if self.size > self._limit:
            raise TooLarge(f"larger than {self._limit:,} bytes")
        if len(self._head) < self._head_size:
            self._head.extend(chunk[: self._head_size - len(self._head)])
        self._digest.update(chunk)
        self._opened()[0].write(chunk)

    def write_all(self, chunks: list[bytes | memoryview]) -> None:
        """Adds chunks in order; raises TooLarge past the limit."""
        for chunk in chunks:
            self.write(chunk)

    def hold(self, chunk: bytes | memoryview) -> None:
        """Keeps a chunk for the next `drain`, without a copy: the caller leaves its bytes unchanged."""
        self._held.append(chunk)
        self._held_size += len(chunk)

    async def drain(self, *, at_least: int = 0) -> None:
        """Writes the held chunks on a worker thread once they come to `at_least` bytes; raises TooLarge past the limit."""
        if self._held and self._held_size >= at_least:
            chunks, self._held, self._held_size = self._held, [], 0
            await asyncio.to_thread(self.write_all, chunks)

    def _opened(self) -> tuple[BinaryIO, Path]:
        if self._file is None or self._temp is None:
            fd, name = tempfile.mkstemp(dir=self._store.incoming())
            self._file, self._temp = os.fdopen(fd, "wb"), Path(name)
        return self._file, self._temp

    @property
    def head(self) -> bytes:
        """Returns the first bytes written, for sniffing the content type."""
        return bytes(self._head)

    def written(self) -> Path:
        """Flushes what arrived so far and returns the temporary file, for checks before the blob is kept."""
        file, temp = self._opened()
        file.flush()
        return temp

    def commit(self) -> Stored:
        """Makes the blob durable under its sha256; an identical blob already stored is kept as it is."""
        file, temp = self._opened()
        file.flush()
        os.fsync(file.fileno())
        file.close()
        sha256 = self._digest.hexdigest()
        target = self._store.path(sha256)
        if target.exists():
            temp.unlink()
        else:
            made = [directory for directory in target.relative_to(self._store.root).parents if not (self._store.root / directory).exists()]
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, target)
            target.chmod(0o444)
            # A rename, and a directory made for it, last a crash only once the directory holding each is synced:
            # without it the row naming the blob could commit while the blob itself is lost.
            for directory in {target.parent, *((self._store.root / d).parent for d in made)}:
                _sync_directory(directory)
        return Stored(sha256=sha256, size=self.size, head=bytes(self._head))

    def discard(self) -> None:
        """Drops a write that will not be kept."""
        if self._file is not None and self._temp is not None:
            self._file.close()
            self._temp.unlink(missing_ok=True)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
