"""HTML to PDF with WeasyPrint, in a Chinese font found through fontconfig and embedded as subsets: the delivery report and the 送达回证 to sign.

What does not change between renders is made once per process and reused: the check that a Chinese font is
installed, and the fontconfig configuration with its Pango font map and each parsed stylesheet. A font map is not
safe to share between threads, so every render runs on one thread of its own, whichever thread asks for it: the
font map and stylesheets are made once (not once per thread of the event loop's pool, ≈0.8 s of CPU each), and
renders, which hold the GIL for most of their time, take turns instead of slowing each other down.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
import threading
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
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

# Only ever touched on the renderer's thread (see _renderer).
_ON_RENDERER: dict[str, Any] = {}
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


@functools.cache
def _renderer() -> ThreadPoolExecutor:
    """Returns the process's one rendering thread, started on first use."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="pdf")


def _fonts() -> Any:
    """Returns the renderer's FontConfiguration: loading fontconfig and a fresh Pango font map cost each render about 0.1 s of CPU."""
    fonts = _ON_RENDERER.get("fonts")
    if fonts is None:
        from weasyprint.text.fonts import FontConfiguration

        _weasyprint()
        fonts = _ON_RENDERER["fonts"] = FontConfiguration()
        _ON_RENDERER["stylesheets"] = {}
    return fonts


def _stylesheet(path: Path) -> Any:
    """Returns a stylesheet file as the renderer parsed it, for every render that applies it."""
    fonts = _fonts()
    sheets: dict[Path, Any] = _ON_RENDERER["stylesheets"]
    if path not in sheets:
        sheets[path] = _weasyprint().CSS(filename=str(path), font_config=fonts)
    return sheets[path]


def _render(html: str, base_url: str, stylesheets: Sequence[Path]) -> bytes:
    sheets = [_stylesheet(path) for path in stylesheets]
    pdf: bytes = _weasyprint().HTML(string=html, base_url=base_url).write_pdf(full_fonts=False, font_config=_fonts(), stylesheets=sheets)
    return pdf


def html_to_pdf(html: str, *, base_url: str, stylesheets: Sequence[Path] = ()) -> bytes:
    """Returns the page as a PDF laid out by its print rules and `stylesheets` (files, parsed once), fonts embedded as subsets; raises RuntimeError when no Chinese font is installed.

    Blocks its caller until the rendering thread has typeset the page after any renders asked for before it.
    """
    _require_cjk_font()
    return _renderer().submit(_render, html, base_url, tuple(stylesheets)).result()
