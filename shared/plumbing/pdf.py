"""HTML to PDF with WeasyPrint, in a Chinese font found through fontconfig and embedded as subsets: the delivery report and the 送达回证 to sign.

Every render runs in the process's one typesetting process, started on first use at a lower scheduling priority: a
render holds the GIL for most of its half second, which in the service's own process stalled its event loop, and on
busy cores the work with someone waiting on it (a delivery, a callback, a page) now goes first. What does not change
between renders is made once in the typesetting process and reused: the fontconfig configuration with its Pango
font map and each parsed stylesheet (≈0.8 s of CPU); the check that a Chinese font is installed is made, and
remembered, by the caller.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
import shutil
import subprocess
import threading
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from types import ModuleType

log = structlog.get_logger(__name__)

NO_CJK_FONT = (
    "No Chinese (CJK) font is installed, so the PDF would show empty boxes instead of characters. "
    "Install Noto CJK (Debian/Ubuntu: apt-get install fonts-noto-cjk) and render again."
)
NO_FONTCONFIG = (
    "fc-list (fontconfig) is not installed, so no Chinese font can be found. Install fontconfig and fonts-noto-cjk (Debian/Ubuntu: apt-get install fontconfig fonts-noto-cjk)."
)

# How much lower the typesetting process runs than its service (nice(2) increment): renders have no caller in a hurry.
TYPESETTER_NICENESS = 10
# Set once fontconfig has named a Chinese font: asking again (fc-list, ~12 ms) before every render would not change the answer.
_CJK_FONT_FOUND = threading.Event()


def cjk_font_missing() -> str | None:
    """Asks fontconfig for a Chinese font; returns why a PDF cannot be rendered (naming the package to install), or None."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return NO_FONTCONFIG
    try:
        found = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return NO_FONTCONFIG
    return None if found.strip() else NO_CJK_FONT


def _require_cjk_font() -> None:
    """Raises RuntimeError when no Chinese font is installed; a font found is remembered, a missing one asked for again next time (it may have been installed since)."""
    if _CJK_FONT_FOUND.is_set():
        return
    missing = cjk_font_missing()
    if missing is not None:
        raise RuntimeError(missing)
    _CJK_FONT_FOUND.set()


@functools.cache
def _weasyprint() -> ModuleType:
    """Imports WeasyPrint on first use and keeps it (and the font subsetter) quiet: they log every font fallback at WARNING."""
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with warnings.catch_warnings():
        # Without libharfbuzz-subset0 WeasyPrint warns at import and subsets with fontTools instead.
        warnings.simplefilter("ignore", DeprecationWarning)
        import weasyprint
        from weasyprint.text import ffi
    if ffi.harfbuzz_subset is None:
        # fontTools subsets each CJK font glyph by glyph: ~15 s per report instead of well under one.
        log.warning("pdf.slow_font_subsetting", missing="libharfbuzz-subset0", fix="apt-get install libharfbuzz-subset0")
    return weasyprint


def _typesetter_started() -> None:
    """Runs first in the typesetting process: lowers its priority and has it end with its service, even one killed."""
    os.nice(TYPESETTER_NICENESS)
    # A killed service never tells its pool to stop, and the pool's queue never closes (this process holds both ends).
    service = multiprocessing.parent_process()
    if service is not None:
        threading.Thread(target=_end_after, args=(service,), name="service-watch", daemon=True).start()


def _end_after(service: multiprocessing.process.BaseProcess) -> None:
    service.join()
    os._exit(0)


class _Typesetter:
    """The typesetting process, started on first use and again after it died (killed, or out of memory)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def pool(self) -> ProcessPoolExecutor:
        """Returns the running pool of one process, starting it if there is none."""
        with self._lock:
            if self._pool is None:
                # Spawned, not forked: the service's threads (the event loop's pool, Kafka's) may hold locks a fork would copy held.
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_typesetter_started)
            return self._pool

    def discard(self, broken: ProcessPoolExecutor) -> None:
        """Forgets a pool whose process died, so the next render starts a new one."""
        with self._lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)

    def pid(self) -> int:
        """Returns the typesetting process's pid, starting it if needed."""
        return self.pool().submit(os.getpid).result()

    def run(self, html: str, base_url: str, stylesheets: tuple[Path, ...]) -> bytes:
        """Typesets the page; once more in a new process if the process died before or during the render."""
        try:
            return self._once(html, base_url, stylesheets)
        except BrokenProcessPool:
            return self._once(html, base_url, stylesheets)

    def _once(self, html: str, base_url: str, stylesheets: tuple[Path, ...]) -> bytes:
        pool = self.pool()
        try:
            return pool.submit(_render, html, base_url, stylesheets).result()
        except BrokenProcessPool:
            self.discard(pool)
            raise


typesetter = _Typesetter()


@functools.cache
def _fonts() -> Any:
    """Returns the typesetting process's FontConfiguration: loading fontconfig and a fresh Pango font map cost each render about 0.1 s of CPU."""
    from weasyprint.text.fonts import FontConfiguration

    _weasyprint()
    return FontConfiguration()


@functools.cache
def _stylesheet(path: Path) -> Any:
    """Returns a stylesheet file as the typesetting process parsed it, for every render that applies it."""
    return _weasyprint().CSS(filename=str(path), font_config=_fonts())


def _render(html: str, base_url: str, stylesheets: Sequence[Path]) -> bytes:
    sheets = [_stylesheet(path) for path in stylesheets]
    pdf: bytes = _weasyprint().HTML(string=html, base_url=base_url).write_pdf(full_fonts=False, font_config=_fonts(), stylesheets=sheets)
    return pdf


def html_to_pdf(html: str, *, base_url: str, stylesheets: Sequence[Path] = ()) -> bytes:
    """Returns the page as a PDF laid out by its print rules and `stylesheets` (files, parsed once), fonts embedded as subsets; raises RuntimeError when no Chinese font is installed.

    Blocks its caller until the typesetting process has typeset the page after any renders asked for before it.
    """
    _require_cjk_font()
    return typesetter.run(html, base_url, tuple(stylesheets))
