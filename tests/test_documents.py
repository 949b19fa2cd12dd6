"""Documents for lesson 11 (retrieval): the handbooks and their labelled questions agree."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

FOLDER = Path(__file__).resolve().parent.parent / "kit" / "data" / "documents"
DOCUMENTS = ["school_handbook", "factory_manual"]
LANGS = ["en", "ko"]
KINDS = {"lookup", "paraphrase", "not_in_document"}
KEYS = {"document", "question", "answer", "section", "kind"}
# Stated mix: about 60% lookups, 30% paraphrases, 10% not in the document.
SHARE = {
    "lookup": (0.5, 0.7),
    "paraphrase": (0.2, 0.4),
    "not_in_document": (0.05, 0.15),
}
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def squash(text: str) -> str:
    """Collapse runs of whitespace, so an answer matches across a wrapped line."""
    return " ".join(text.split())


def sections(document: str, lang: str) -> dict[str, str]:
    """The `## ` sections of a document, heading -> body, in document order."""
    text = (FOLDER / f"{document}.{lang}.md").read_text(encoding="utf-8")
    found: dict[str, str] = {}
    heading = None
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
            assert heading not in found, f"{document}.{lang}: heading twice: {heading}"
            found[heading] = ""
        elif heading is not None:
            found[heading] += line + "\n"
    return found


def questions(lang: str) -> list[dict]:
    path = FOLDER / f"questions.{lang}.jsonl"
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"{path.name}:{number}: empty line"
        row = json.loads(line)
        assert set(row) == KEYS, f"{path.name}:{number}: keys {sorted(row)}"
        assert all(isinstance(value, str) for value in row.values()), number
        rows.append(row)
    return rows


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("document", DOCUMENTS)
def test_document_parses_into_titled_sections_in_its_language(document, lang):
    """Does each document have one title, 12-16 non-empty sections, in its language?"""
    text = (FOLDER / f"{document}.{lang}.md").read_text(encoding="utf-8")
    assert text.startswith("# ") and text.count("\n# ") == 0
    found = sections(document, lang)
    assert 12 <= len(found) <= 16, len(found)
    for heading, body in found.items():
        assert body.strip(), f"{document}.{lang}: empty section {heading}"
    assert bool(HANGUL.search(text)) == (lang == "ko")


def numbers(text: str) -> set[str]:
    """Times, amounts, rooms and codes of two digits or more (Korean months left out)."""
    text = re.sub(
        r"\d+월", "", text
    )  # "3월 6일" is "March 6": the month is a word in en
    found = re.findall(r"\d+(?:[.,:]\d+)*", text)
    return {number for number in found if sum(c.isdigit() for c in number) >= 2}


@pytest.mark.parametrize("document", DOCUMENTS)
def test_korean_and_english_documents_state_the_same_facts(document):
    """Same number of sections, and the same numbers section by section in ko and en?"""
    en, ko = sections(document, "en"), sections(document, "ko")
    assert len(en) == len(ko)
    for (heading, en_body), ko_body in zip(en.items(), ko.values()):
        assert numbers(en_body) == numbers(ko_body), heading


@pytest.mark.parametrize("lang", LANGS)
def test_rows_are_well_formed(lang):
    """Are documents and kinds known, questions distinct and in the file's language?"""
    rows = questions(lang)
    assert len({row["question"] for row in rows}) == len(rows), "repeated question"
    for row in rows:
        assert row["document"] in DOCUMENTS and row["kind"] in KINDS, row
        assert row["question"].strip() == row["question"] and row["question"], row
        assert bool(HANGUL.search(row["question"])) == (lang == "ko"), row
        if row["kind"] == "not_in_document":
            assert row["answer"] == "" and row["section"] == "", row
        else:
            assert row["answer"].strip() and row["section"], row


@pytest.mark.parametrize("lang", LANGS)
def test_every_answer_is_written_in_its_section(lang):
    """Does each answer appear word for word in the named section of that document?"""
    for row in questions(lang):
        if row["kind"] == "not_in_document":
            continue
        found = sections(row["document"], lang)
        assert row["section"] in found, f"no section {row['section']!r}"
        assert squash(row["answer"]) in squash(found[row["section"]]), row


def test_korean_and_english_ask_the_same_questions_in_order():
    """Row by row: same document, same kind, same section (by position)?"""
    en, ko = questions("en"), questions("ko")
    assert len(en) == len(ko)
    index = {
        (document, lang): {
            heading: i for i, heading in enumerate(sections(document, lang))
        }
        for document in DOCUMENTS
        for lang in LANGS
    }
    for number, (e, k) in enumerate(zip(en, ko), 1):
        assert (e["document"], e["kind"]) == (k["document"], k["kind"]), number
        place_en = index[e["document"], "en"].get(e["section"], -1)
        place_ko = index[k["document"], "ko"].get(k["section"], -1)
        assert place_en == place_ko, f"row {number}: {e['section']} / {k['section']}"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("document", DOCUMENTS)
def test_enough_questions_in_the_stated_mix(document, lang):
    """At least 30 questions a document, roughly 60% / 30% / 10% by kind?"""
    rows = [row for row in questions(lang) if row["document"] == document]
    assert len(rows) >= 30, len(rows)
    counts = Counter(row["kind"] for row in rows)
    for kind, (low, high) in SHARE.items():
        assert low <= counts[kind] / len(rows) <= high, (kind, counts)


def test_readme_counts_match_the_question_files():
    """Does the counts table of the README say what the question files hold?"""
    readme = (FOLDER / "README.md").read_text(encoding="utf-8")
    order = ["lookup", "paraphrase", "not_in_document"]
    for lang in LANGS:
        rows = questions(lang)
        for document in DOCUMENTS:
            counts = Counter(row["kind"] for row in rows if row["document"] == document)
            cells = [counts[kind] for kind in order] + [sum(counts.values())]
            line = f"| `{document}` | " + " | ".join(map(str, cells)) + " |"
            assert line in readme, line
