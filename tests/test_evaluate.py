"""kit.evaluate, kit.compare, kit.Prompt and the scorers, as lessons use them."""

from __future__ import annotations

import re

import pytest

import kit
from kit import scoring
from kit.errors import SettingError

ROWS = [
    {"text": "A ghost haunts the old school at night.", "label": "horror"},
    {"text": "Two friends fall in love on a summer trip.", "label": "romance"},
    {"text": "A clumsy chef opens a restaurant for cats.", "label": "comedy"},
    {"text": "Astronauts find a signal near Jupiter.", "label": "scifi"},
]


def test_label_scorer_finds_the_first_label_named():
    """Is the earliest label in the answer taken, by id or display name, any case?"""
    labels = ["lost_card", "fraud", "balance"]
    assert scoring.find_label("Label: Lost card.", labels) == "lost_card"
    assert scoring.find_label("fraud, not balance", labels) == "fraud"
    assert scoring.find_label("balanced view", labels) is None  # whole words only
    assert scoring.find_label("사기입니다", labels, {"fraud": "사기"}) == "fraud"


def test_label_spellings_with_hyphens_are_found():
    """Are "Sci-Fi" and "lost-card" read as the labels scifi and lost_card?"""
    assert scoring.find_label("Sci-Fi!", ["horror", "scifi"]) == "scifi"
    assert scoring.find_label("It is a lost-card case.", ["fraud", "lost_card"]) == (
        "lost_card"
    )
    assert scoring.find_label("well-known horror", ["horror", "known"]) == "horror"


def test_other_scorers():
    """Do exact, json and regex scorers mark what they promise?"""
    assert scoring.exact("  Seoul. ", {"label": "seoul"}) == 1.0
    assert scoring.json_valid('```json\n{"a": 1}\n```', {}) == 1.0
    assert scoring.json_valid("{'a': 1}", {}) == 0.0
    name, rule = scoring.pick("regex:^\\d{3}-\\d{4}$", [], {})
    assert name == "regex" and rule("010-1234", {}) == 1.0 and rule("x", {}) == 0.0
    _, custom = scoring.pick(lambda out, row: len(out) < 5, [], {})
    assert custom("abc", {}) == 1.0
    with pytest.raises(SettingError):
        scoring.pick("vibes", [], {})
    _, broken = scoring.pick(lambda out, row: 7, [], {})
    with pytest.raises(SettingError):
        broken("x", {})


@pytest.mark.parametrize("shown", ["en", "ko"])
def test_task_prompt_speaks_the_data_language(tiny_model, shown):
    """Does the zero-shot instruction follow the data set's language, not the UI's?"""
    kit.set_language(shown)
    try:
        english = kit.task_prompt(tiny_model, ["a", "b"], "Sort it.", "en").system
        korean = kit.task_prompt(tiny_model, ["a", "b"], "분류하세요.", "ko").system
    finally:
        kit.set_language(None)
    assert "exactly one label" in english and "라벨" not in english
    assert "라벨" in korean and "label" not in korean


def test_prompt_renders_few_shot_turns(tiny_model):
    """Does a few-shot prompt send system, example pairs, then the input, in order?"""
    prompt = kit.Prompt(tiny_model, "Plot: {text}", system="Name the genre.",
                        examples=ROWS[:2])  # fmt: skip
    sent = prompt.messages("A robot learns to paint.")
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user",
                                         "assistant", "user"]  # fmt: skip
    assert sent[2]["content"] == "horror" and sent[-1]["content"].startswith(
        "Plot: A robot"
    )
    with pytest.raises(SettingError) as caught:
        kit.Prompt(tiny_model, "{plot}", examples=ROWS[:1])
    assert "plot" in str(caught.value) and "text" in str(caught.value)


def test_evaluate_scores_every_row_and_keeps_outputs(real_model):
    """Does evaluate run each row once, score it, and agree with asking one by one?"""
    prompt = kit.Prompt(real_model, system="Answer with one word: horror, romance, "
                        "comedy or scifi.", examples=ROWS[:2])  # fmt: skip
    report = kit.evaluate(prompt, ROWS, progress=False)
    assert len(report.rows) == len(ROWS)
    one_by_one = [str(prompt(r, stream=False)) for r in ROWS]
    assert [r["output"] for r in report.rows] == one_by_one  # batching changes nothing
    assert report.score == sum(r["score"] for r in report.rows) / 4
    assert {f["text"] for f in report.failures} <= {r["text"] for r in ROWS}
    assert "%" in report._repr_html_()
    assert re.search(r"\d+%", repr(report))


def test_compare_tells_what_changed(real_model):
    """Does compare list both scores and the rows that changed?"""
    plain = kit.evaluate(real_model, ROWS, progress=False, name="plain")
    shown = kit.Prompt(real_model, system="Reply with the genre only.", examples=ROWS,
                       name="shown")  # fmt: skip
    better = kit.evaluate(shown, ROWS, progress=False)
    comparison = kit.compare(plain, better)
    assert comparison.best.score == max(plain.score, better.score)
    changed = comparison.changed()
    assert all(c["score"] != c["score_after"] for c in changed)
    assert "plain" in comparison._repr_html_() and "shown" in comparison._repr_html_()
    ax = comparison.plot()
    assert len(ax.patches) == 2 * (1 + len(plain.per_label()))
    shown_numbers = {t.get_text() for t in ax.texts}
    assert (
        f"{plain.score:.0%}" in shown_numbers and f"{better.score:.0%}" in shown_numbers
    )
    assert ax.get_xticklabels()[0].get_text() == "all"
    with pytest.raises(SettingError):
        kit.compare(plain)


def test_evaluate_refuses_a_bad_target_or_batch(tiny_model):
    """Are a wrong target and an absurd batch size explained, not crashed on?"""
    with pytest.raises(SettingError):
        kit.evaluate("my model", ROWS)
    with pytest.raises(SettingError):
        kit.evaluate(tiny_model, ROWS, batch_size=0)
