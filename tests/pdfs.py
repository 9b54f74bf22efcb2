"""Reading a PDF back with poppler-utils, for the tests of the delivery report and the 送达回证: they fail (never skip) without it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

POPPLER = "pdftotext not found: install poppler-utils (Debian: apt-get install poppler-utils; .ci/run installs it when missing)"


def pdf_pages(pdf: bytes, tmp_path: Path) -> list[str]:
    """Returns the text of each page as `pdftotext -layout` extracts it; fails (never skips) without poppler-utils."""
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.fail(POPPLER, pytrace=False)
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    text = subprocess.run([pdftotext, "-layout", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True, timeout=60).stdout
    return text.split("\f")[:-1]


def poppler(tool: str, pdf: bytes, tmp_path: Path) -> str:
    """Runs a poppler-utils tool on the PDF; fails (never skips) without poppler-utils."""
    executable = shutil.which(tool)
    if executable is None:
        pytest.fail(POPPLER.replace("pdftotext", tool), pytrace=False)
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    return subprocess.run([executable, str(path)], capture_output=True, text=True, check=True, timeout=60).stdout
