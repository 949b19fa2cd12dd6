"""The files the docs name exist: a reader who opens `kit/service/jobs.py` finds it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted(ROOT.glob("docs/**/*.md")) + [ROOT / "README.md",
                                             ROOT / "assignments" / "README.md"]  # fmt: skip
PATH = re.compile(
    r"`((?:kit|tests|benchmarks|deploy|scripts|lessons|assignments)/[\w./-]+"
    r"\.(?:py|yaml|toml|md|ipynb|json|sh))`"
)
EXAMPLE = "a6-my-topic"  # the teacher guide's example of a new assignment


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_file_a_doc_names_exists(doc):
    """Does every repository path a doc names in `backticks` exist?"""
    named = {m.group(1) for m in PATH.finditer(doc.read_text(encoding="utf-8"))}
    missing = sorted(p for p in named if EXAMPLE not in p and not (ROOT / p).exists())
    assert missing == []
