"""The lessons' closing quizzes: valid in both languages, instant feedback, a score."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit import messages
from kit.errors import KitError
from kit.widgets import quiz_widget as quiz_module
from kit.widgets.quiz_widget import Quiz, available, load_quiz
from kit.widgets.style import block

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize("lesson", available())
def test_every_quiz_file_has_both_languages_and_a_valid_answer(lesson):
    questions = load_quiz(lesson)
    assert len(questions) >= 3
    assert (ROOT / "lessons" / lesson).is_dir(), f"no lesson {lesson} for this quiz"
    for q in questions:
        assert q.text["en"] != q.text["ko"] and q.explain["en"] and q.explain["ko"]
        assert len(q.choices["en"]) == len(q.choices["ko"]) >= 2


def test_a_right_pick_says_why_a_wrong_one_asks_again_and_the_score_counts_first_tries():
    quiz = Quiz("00-start", lang="en")
    first = quiz.questions[0]
    wrong = next(i for i in range(len(first.choices["en"])) if i != first.answer)
    assert quiz.answer(0, wrong) is False
    assert "Not quite" in quiz.feedback[0].value
    assert quiz.answer(0, first.answer) is True
    assert (
        "Right" in quiz.feedback[0].value
        and first.explain["en"][:20] in quiz.feedback[0].value
    )
    assert quiz.answer(1, quiz.questions[1].answer) is True
    assert f"1 of {len(quiz.questions)} right on the first try" in quiz.score.value
    assert f"2 of {len(quiz.questions)} answered" in quiz.score.value


def test_the_korean_quiz_speaks_korean():
    quiz = Quiz("00-start", lang="ko")
    quiz.answer(0, quiz.questions[0].answer)
    assert "맞아요" in quiz.feedback[0].value
    assert quiz.radios[0].options == tuple(quiz.questions[0].choices["ko"])


def test_an_unknown_quiz_and_a_broken_file_get_clear_messages(tmp_path, monkeypatch):
    with pytest.raises(KitError, match="00-start"):
        load_quiz("no-such-lesson")
    (tmp_path / "broken.toml").write_text(
        '[[question]]\nen = "Q"\nko = "질문"\nchoices = { en = ["a", "b"], ko = ["가"] }\n'
        "answer = 0\n"
    )
    monkeypatch.setattr(quiz_module, "QUIZZES", tmp_path)
    with pytest.raises(KitError, match="broken.toml") as caught:
        load_quiz("broken")
    assert "question 1" in str(caught.value)


def test_a_quiz_file_that_is_not_toml_names_the_file_and_line(tmp_path, monkeypatch):
    """Does a syntax error in a quiz file give quiz_bad_file with its name and line?"""
    (tmp_path / "typo.toml").write_text('[[question]]\nen = "Q\n', encoding="utf-8")
    monkeypatch.setattr(quiz_module, "QUIZZES", tmp_path)
    with pytest.raises(KitError) as caught:
        load_quiz("typo")
    assert caught.value.key == "quiz_bad_file"
    assert "typo.toml" in str(caught.value) and "line 2" in str(caught.value)


def test_the_title_is_one_escaped_styled_block():
    """Is the quiz title drawn by the shared block() with the title style?"""
    quiz = Quiz("00-start", lang="en")
    title = messages.t("quiz_title", "en", n=len(quiz.questions))
    assert quiz.children[0].value == block(title, quiz_module.TITLE_STYLE)


@pytest.mark.parametrize("lesson", sorted(p.name for p in (ROOT / "lessons").iterdir()
                                          if p.is_dir() and p.name[:2].isdigit()))  # fmt: skip
def test_each_lesson_ends_with_its_quiz_in_both_languages(lesson):
    """Does each lesson's last code cell show its own quiz, in en and ko?"""
    import nbformat

    assert lesson in available()
    for lang in ("en", "ko"):
        notebook = nbformat.read(
            ROOT / "lessons" / lesson / f"{lang}.ipynb", as_version=4
        )
        last = [c for c in notebook.cells if c.cell_type == "code"][-1]
        assert f'kit.widgets.quiz("{lesson}")' in last.source, f"{lang}.ipynb"
