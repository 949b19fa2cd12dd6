"""After the notebooks ran: every lesson has an HTML preview with its outputs, no error.

Run after the main test run (`make test` does): the previews are written by
tests/previews.py while nbval runs the lessons, so this cannot run beside them.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from tests.previews import LESSONS, preview_path

NOTEBOOKS = sorted(LESSONS.glob("[0-9][0-9]-*/*.ipynb"))


@pytest.mark.parametrize(
    "notebook", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}"
)
def test_each_lesson_has_a_preview_with_outputs_and_no_error(notebook: Path):
    """Is there build/previews/<lesson>/<lang>.html, every cell run, outputs shown?"""
    path = preview_path(notebook)
    assert path.is_file(), f"no preview {path}: did nbval run {notebook}?"
    html = path.read_text(encoding="utf-8")
    source = nbformat.read(notebook, as_version=4)
    code = [c for c in source.cells if c.cell_type == "code"]
    # nbconvert's lab template marks each code cell's prompt with its count.
    counts = {int(n) for n in re.findall(r"\[(\d+)\]:", html)}
    assert counts == set(range(1, len(code) + 1)), "not every cell ran"
    assert html.count("jp-OutputArea-output") >= 1, "the preview shows no output"
    assert 'data-mime-type="application/vnd.jupyter.error"' not in html, "an error cell"
    assert "Traceback (most recent call last)" not in html, "an error cell"
