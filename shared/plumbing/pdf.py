"""HTML to PDF with WeasyPrint, in a Chinese font found through fontconfig and embedded as subsets: the delivery report and the 送达回证 to sign.

What does not change between renders is made once and reused: the check that a Chinese font is installed (once
per process), and the fontconfig configuration with its Pango font map and each parsed stylesheet (once per
thread: a font map is not safe to share between threads, and a lock would keep the threads of the event loop's
pool waiting behind a long render).
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
import threading
import warnings
from collections.abc import Sequence
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

_PER_THREAD = threading.local()
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


def _fonts() -> Any:
    """Returns this thread's FontConfiguration: loading fontconfig and a fresh Pango font map cost each render about 0.1 s of CPU."""
    fonts = getattr(_PER_THREAD, "fonts", None)
    if fonts is None:
        from weasyprint.text.fonts import FontConfiguration

        _weasyprint()
        fonts = _PER_THREAD.fonts = FontConfiguration()
        _PER_THREAD.stylesheets = {}
    return fonts


def _stylesheet(path: Path) -> Any:
    """Returns a stylesheet file as this thread parsed it, for every render that applies it."""
    fonts = _fonts()
    sheets: dict[Path, Any] = _PER_THREAD.stylesheets
    if path not in sheets:
        sheets[path] = _weasyprint().CSS(filename=str(path), font_config=fonts)
    return sheets[path]


def html_to_pdf(html: str, *, base_url: str, stylesheets: Sequence[Path] = ()) -> bytes:
    """Returns the page as a PDF laid out by its print rules and `stylesheets` (files, parsed once per thread), fonts embedded as subsets; raises RuntimeError when no Chinese font is installed."""
    _require_cjk_font()
    sheets = [_stylesheet(path) for path in stylesheets]
    pdf: bytes = _weasyprint().HTML(string=html, base_url=base_url).write_pdf(full_fonts=False, font_config=_fonts(), stylesheets=sheets)
    return pdf
