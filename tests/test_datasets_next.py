"""The grown data sets waiting in kit/data/next: well-formed, balanced, supersets."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "kit" / "data"
FILES = sorted((DATA / "next").glob("*.jsonl"))
CATALOGUE = json.loads((DATA / "catalogue.json").read_text("utf-8"))


def test_every_shipped_set_has_a_grown_version():
    assert {f.name for f in FILES} == {f.name for f in DATA.glob("*.jsonl")}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_a_grown_set_keeps_todays_rows_and_is_balanced(path):
    lines = path.read_text("utf-8").splitlines()
    today = (DATA / path.name).read_text("utf-8").splitlines()
    assert lines[: len(today)] == today  # today's rows first, unchanged
    rows = [json.loads(line) for line in lines]
    assert all(set(r) == {"text", "label"} for r in rows)
    labels = set(CATALOGUE[path.name.split(".")[0]]["labels"])
    counts = Counter(r["label"] for r in rows)
    assert set(counts) == labels and len(set(counts.values())) == 1, counts
    assert len(rows) >= 200
    texts = [r["text"].strip().lower() for r in rows]
    assert len(set(texts)) == len(texts)  # no row twice
    if ".ko." in path.name:  # written in Korean
        hangul = sum(1 for t in texts for ch in t if "가" <= ch <= "힣")
        letters = sum(1 for t in texts for ch in t if ch.isalpha())
        assert hangul / letters >= 0.9
