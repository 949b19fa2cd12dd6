"""Quiz: a lesson's closing questions, answered by the student, with instant feedback.

Questions live in kit/quizzes/<lesson>.toml, both languages side by side:

    [[question]]
    en = "Why ...?"
    ko = "왜 ...?"
    choices = { en = ["A", "B", "C"], ko = ["가", "나", "다"] }
    answer = 1                                       # the right choice, from 0
    explain = { en = "Because ...", ko = "왜냐하면 ..." }  # shown once it is right
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ipywidgets as w

from kit import messages
from kit.errors import KitError
from kit.messages import t
from kit.toml_files import TomlError, read_toml
from kit.widgets.style import ERROR_STYLE, STATUS_STYLE, block

QUIZZES = Path(__file__).resolve().parent.parent / "quizzes"
TITLE_STYLE = "font-weight:bold;line-height:1.5"
RIGHT_STYLE = "color:#166534;font-weight:bold;line-height:1.5"
QUESTION_STYLE = "font-weight:600;line-height:1.5;margin:8px 0 2px 0"  # prose, not code


@dataclass(frozen=True)
class Question:
    """One multiple-choice question in every language."""

    text: dict[str, str]
    choices: dict[str, list[str]]
    answer: int
    explain: dict[str, str]


def available() -> list[str]:
    """Return the lessons that have a quiz."""
    return sorted(p.stem for p in QUIZZES.glob("*.toml"))


def load_quiz(lesson: str) -> list[Question]:
    """Return the questions of `lesson`'s quiz, checked (both languages, a valid answer)."""
    path = QUIZZES / f"{lesson}.toml"
    if not path.is_file():
        raise KitError("quiz_unknown", lesson=lesson, names=", ".join(available()))
    try:
        table = read_toml(path)
    except TomlError as err:
        raise _bad(path, err.detail) from None
    questions = []
    for n, raw in enumerate(table.get("question", [])):
        try:
            question = Question(
                {lang: str(raw[lang]) for lang in messages.LANGUAGES},
                {
                    lang: [str(c) for c in raw["choices"][lang]]
                    for lang in messages.LANGUAGES
                },
                int(raw["answer"]),
                {
                    lang: str(raw.get("explain", {}).get(lang, ""))
                    for lang in messages.LANGUAGES
                },
            )
        except (KeyError, TypeError, ValueError) as missing:
            raise _bad(path, f"question {n + 1}: {missing!r}") from None
        sizes = {len(c) for c in question.choices.values()}
        if len(sizes) != 1 or not 0 <= question.answer < sizes.pop():
            raise _bad(path, f"question {n + 1}: choices or answer")
        questions.append(question)
    if not questions:
        raise _bad(path, "no [[question]]")
    return questions


def _bad(path: Path, problem: str) -> KitError:
    return KitError("quiz_bad_file", file=path.name, problem=problem)


class Quiz(w.VBox):
    """A lesson's quiz: pick an answer, see at once whether it is right, and why."""

    def __init__(self, lesson: str, lang: str | None = None) -> None:
        self.lang = lang or messages.language()
        self.questions = load_quiz(lesson)
        self.first_try: dict[int, bool] = {}  # question -> right on the first pick
        self.feedback = [w.HTML() for _ in self.questions]
        self.radios = []
        title = t("quiz_title", self.lang, n=len(self.questions))
        rows = [w.HTML(block(title, TITLE_STYLE))]
        for i, question in enumerate(self.questions):
            radio = w.RadioButtons(options=question.choices[self.lang], value=None,
                                   layout=w.Layout(width="auto"))  # fmt: skip
            radio.add_class("baeum-quiz-choices")
            radio.observe(
                lambda change, i=i: self._picked(i, change["new"]), names="value"
            )
            self.radios.append(radio)
            self.feedback[i].add_class("baeum-quiz-feedback")
            text = block(f"{i + 1}. {question.text[self.lang]}", QUESTION_STYLE)
            rows += [w.HTML(text), radio, self.feedback[i]]
        self.score = w.HTML()
        self.score.add_class("baeum-quiz-score")
        super().__init__([*rows, self.score])
        self.add_class("baeum-quiz")
        self._show_score()

    def answer(self, index: int, choice: int) -> bool:
        """Pick choice `choice` (from 0) of question `index`, as a click would; return if right."""
        self.radios[index].value = self.questions[index].choices[self.lang][choice]
        return choice == self.questions[index].answer

    def _picked(self, index: int, value: str | None) -> None:
        if value is None:
            return
        question = self.questions[index]
        right = question.choices[self.lang].index(value) == question.answer
        self.first_try.setdefault(index, right)
        if right:
            explain = question.explain[self.lang]
            self.feedback[index].value = block(
                f"{t('quiz_right', self.lang)} {explain}".strip(), RIGHT_STYLE
            )
        else:
            self.feedback[index].value = block(t("quiz_wrong", self.lang), ERROR_STYLE)
        self._show_score()

    def _show_score(self) -> None:
        right = sum(self.first_try.values())
        line = t("quiz_score", self.lang, right=right, total=len(self.questions),
                 answered=len(self.first_try))  # fmt: skip
        self.score.value = block(line, STATUS_STYLE)


def quiz(lesson: str, lang: str | None = None) -> Quiz:
    """Show `lesson`'s quiz (e.g. "00-start") in the notebook's language."""
    return Quiz(lesson, lang)
