"""kit.retrieval: passages from the shipped documents, BM25 that finds them, clear errors."""

from __future__ import annotations

import pytest

from kit import messages, retrieval
from kit.errors import KitError

DOCUMENTS = ["factory_manual", "school_handbook"]


@pytest.fixture(autouse=True)
def english(monkeypatch):
    """Messages in English unless a test asks for Korean."""
    monkeypatch.setenv("KIT_LANG", "en")
    messages.set_language(None)


def ranked_first(lang: str, kind: str, unit: str = "passages") -> tuple[int, int]:
    """Return (questions whose labelled section is ranked first, questions) of a kind."""
    found = total = 0
    for name in DOCUMENTS:
        document = retrieval.load_documents(name, lang=lang)
        index = retrieval.Index(getattr(document, unit))
        for row in document.questions:
            if row["kind"] == kind:
                hits = index.search(row["question"], k=1)
                found += bool(hits) and hits[0].section == row["section"]
                total += 1
    return found, total


def test_the_two_documents_are_shipped_and_load_in_the_current_language():
    """Does load_documents follow the language shown, and lang= override it?"""
    assert retrieval.available() == DOCUMENTS
    english = retrieval.load_documents("school_handbook")
    assert english.lang == "en" and english.title.startswith("Hanbit High School")
    messages.set_language("ko")
    korean = retrieval.load_documents("school_handbook")
    assert korean.lang == "ko" and korean.title.startswith("한빛고등학교")
    assert retrieval.load_documents("school_handbook", lang="en").lang == "en"
    assert "15" in repr(korean) and "절" in repr(korean)


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", DOCUMENTS)
def test_passages_cover_the_sections_in_order(name, lang):
    """Is every section cut into passages that keep its heading, in document order?"""
    document = retrieval.load_documents(name, lang=lang)
    sections = [p.section for p in document.sections]
    passages = document.passages
    assert len(sections) in (15, 16) and len(sections) < len(passages) <= 3 * len(
        sections
    )
    assert list(dict.fromkeys(p.section for p in passages)) == sections
    assert [p.number for p in passages] == list(range(len(passages)))
    for row in document.questions:  # every answer sits whole in one passage
        if row["answer"]:
            assert any(retrieval.has_answer(p.text, row["answer"]) for p in passages
                       if p.section == row["section"]), row  # fmt: skip
    # A table or list stays with the sentence that leads into it: only a section's
    # first passage may start with one.
    firsts = {p.number for p in passages if p.section not in
              {q.section for q in passages[: p.number]}}  # fmt: skip
    assert any("\n|" in p.text for p in passages)
    for p in passages:
        assert p.number in firsts or not p.text.startswith(("|", "1. ", "- ")), p


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_bm25_finds_the_section_of_nearly_every_lookup_question(lang):
    """Does the top passage come from the labelled section for >= 45 of 48 lookups?"""
    found, total = ranked_first(lang, "lookup")
    assert total == 48 and found >= 45, found


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_paraphrased_questions_are_missed_far_more_often(lang):
    """Are paraphrases (other words than the document's) ranked first much less often?"""
    found, total = ranked_first(lang, "paraphrase")
    assert total == 24 and 8 <= found <= 20, found
    assert found / total < ranked_first(lang, "lookup")[0] / 48 - 0.15


def test_korean_is_matched_by_letter_pairs_so_endings_do_not_hide_words():
    """Do 도서관은 and 도서관에서 share pieces, and does a Korean lookup find 도서관?"""
    index = retrieval.Index(retrieval.load_documents("school_handbook", lang="ko"))
    assert index.korean and {"도서", "서관"} <= set(index.words("도서관은"))
    assert set(index.words("도서관은")) & set(index.words("도서관에서"))
    hits = index.search("도서관은 평일에 몇 시에 닫아요?", k=3)
    assert hits[0].section == "도서관" and retrieval.has_answer(hits[0].text, "18:30")
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].score >= hits[1].score >= hits[2].score > 0


def test_search_returns_k_hits_best_first_and_nothing_without_shared_words():
    """Does search give at most k hits with falling scores, and none for unknown words?"""
    index = retrieval.Index(retrieval.load_documents("factory_manual"))
    hits = index.search("Where are forklift batteries charged?", k=2)
    assert len(hits) == 2 and hits.sections[0] == "Forklifts"
    assert "D-04" in hits[0].text and "Forklifts" in repr(hits)
    assert "D-04" in hits._repr_html_() and "<table>" in hits._repr_html_()
    assert index.words("the forklift is") == ["forklift"]  # English stopwords dropped
    nothing = index.search("zyxwv qqqq")
    assert len(nothing) == 0 and "found nothing" in repr(nothing)


def test_the_prompt_holds_the_passages_then_the_question_in_the_language():
    """Does prompt() put each passage with its section before the question?"""
    index = retrieval.Index(retrieval.load_documents("school_handbook"))
    question = "Who is the librarian?"
    hits = index.search(question, k=2)
    text = retrieval.prompt(question, hits)
    assert text.index(f"[{hits[0].section}] {hits[0].text}") < text.index(question)
    assert "I don't know" in text and text.rstrip().endswith(question)
    alone = retrieval.prompt(question)
    assert question in alone and hits[0].text not in alone
    korean = retrieval.prompt("사서 선생님은 누구예요?", lang="ko")
    assert "모르겠습니다" in korean and "질문: 사서 선생님은 누구예요?" in korean


@pytest.mark.parametrize(
    ("reply", "answer", "expected"),
    [
        ("Homeroom starts at 08:20.", "08:20", True),
        ("The night shift is 22:00-06:00.", "22:00–06:00", True),
        ("야간조는 22:00 ~ 06:00이에요.", "22:00~06:00", True),
        ("A dinner costs 5500 won.", "5,500 won", True),
        ("결석계는 5 일 안에 내요.", "5일", True),
        ("Homeroom starts at 08:30.", "08:20", False),
        ("Homeroom starts at 8:30.", "08:30", True),
        ("조회는 08:30에 시작해요.", "8:30", True),
        ("The library closes at 18:30.", "8:30", False),
        ("결석계는 15일 안에 내요.", "5일", False),
        ("It costs 5,500 won.", "500 won", False),
        ("I don't know.", "", False),
    ],
)
def test_has_answer_ignores_spaces_dashes_commas_and_leading_zeros(
    reply, answer, expected
):
    assert retrieval.has_answer(reply, answer) is expected


def test_your_own_markdown_file_becomes_passages(tmp_path):
    """Can a workshop bring its own Markdown file, and search it?"""
    page = tmp_path / "rules.md"
    page.write_text("# Our rules\n\nIntro.\n\n## Parking\n\nVisitors park in lot C.\n\n"
                    "## Keys\n\nKeys are at the front desk.\n", encoding="utf-8")  # fmt: skip
    document = retrieval.load_documents(page)
    assert document.title == "Our rules" and document.questions == []
    assert [p.section for p in document.passages] == ["Parking", "Keys"]
    assert (
        retrieval.Index(document).search("where do visitors park")[0].section
        == "Parking"
    )


@pytest.mark.parametrize(
    ("call", "english", "korean"),
    [
        (
            lambda: retrieval.load_documents("school_rules"),
            "school_handbook",
            "들어 있는 문서",
        ),
        (
            lambda: retrieval.load_documents("missing.md"),
            "There is no file",
            "파일이 없어요",
        ),
        (
            lambda: retrieval.load_documents("factory_manual", lang="fr"),
            "lang must",
            "lang에는",
        ),
        (lambda: retrieval.Index([]), "Index(docs.passages)", "조각의 목록"),
        (lambda: retrieval.Index("some text"), "list of passages", "조각의 목록"),
        (lambda: _index().search("   "), "index.search(", "낱말이 든 글"),
        (lambda: _index().search(None), "you gave None", "입력한 값: None"),
        (lambda: _index().search("library", k=0), "1 or more", "1 이상의 정수"),
        (lambda: _index().search("library", k=2.5), "you gave 2.5", "입력한 값: 2.5"),
        (lambda: retrieval.prompt("", []), "index.search(", "낱말이 든 글"),
    ],
)
def test_bad_input_gets_a_friendly_message_in_both_languages(call, english, korean):
    """Does each mistake raise a KitError that names the problem and the fix, ko and en?"""
    with pytest.raises(KitError) as caught:
        call()
    assert english in str(caught.value)
    assert korean in caught.value.in_language("ko")


def _index() -> retrieval.Index:
    return retrieval.Index(retrieval.load_documents("school_handbook"))
