"""kit.grading: checks that grade generative output fairly, repeatably and for free."""

from __future__ import annotations

import pytest

import kit
from kit import grading, quota
from kit.errors import SettingError

ROWS = [
    {"text": "ghost in the attic", "label": "horror"},
    {"text": "a kiss at the station", "label": "romance"},
]


def test_regenerate_is_greedy_repeatable_and_free(real_model, fresh_quota, capfd):
    """Does a regenerated answer repeat exactly, cost no quota and write no stderr?"""
    first = grading.regenerate(real_model, "Name a colour.", max_new_tokens=8)
    again = grading.regenerate(real_model, [{"role": "user", "content": "Name a colour."}],
                               max_new_tokens=8)  # fmt: skip
    assert first == again and first.strip()
    assert quota.current().usage()["generations"] == 0
    assert capfd.readouterr().err == ""


def test_regenerate_runs_a_students_prompt_object(tiny_model, fresh_quota):
    """Does a kit.Prompt regenerate on a row just as the student would call it?"""
    prompt = kit.Prompt(tiny_model, "Genre of: {text}", system="One word.")
    row = ROWS[0]
    assert grading.regenerate(prompt, row, max_new_tokens=4) == grading.regenerate(
        prompt, row, max_new_tokens=4
    )
    assert quota.current().usage()["generations"] == 0


def test_accuracy_is_free_and_silent(tiny_model, fresh_quota, capfd):
    """Is accuracy a share in 0..1, with no quota charged and no progress bar on stderr?"""
    score = grading.accuracy(tiny_model, ROWS)
    assert 0.0 <= score <= 1.0
    assert quota.current().usage()["generations"] == 0
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize(
    "text, expected",
    [
        ('{"name": "Mina", "age": 15}', {"name": "Mina", "age": 15}),
        ('```json\n{"a": 1}\n```', {"a": 1}),
        ('Sure! Here it is: {"a": [1, 2]} Hope it helps.', {"a": [1, 2]}),
        ("[1, 2, 3]", [1, 2, 3]),
        ("name: Mina", None),
        ('{"a": 1,}', None),
    ],
)
def test_parse_json_finds_json_in_an_answer(text, expected):
    """Is JSON found with or without fences and chatter, and broken JSON refused?"""
    assert grading.parse_json(text) == expected


def test_strict_json_allows_nothing_around_it():
    """Does strict parsing refuse chatter or fences that lenient parsing forgives?"""
    assert grading.parse_json(' {"a": 1}\n', strict=True) == {"a": 1}
    assert grading.parse_json('JSON: {"a": 1}', strict=True) is None
    assert grading.parse_json('```json\n{"a": 1}\n```', strict=True) is None


def test_format_checks():
    """Do has_keys, matches and within accept what they should and refuse the rest?"""
    assert grading.has_keys({"a": 1, "b": 2}, ["a", "b"])
    assert not grading.has_keys({"a": 1}, ["a", "b"]) and not grading.has_keys(
        [1], ["a"]
    )
    assert grading.matches("Total: 42 won", r"\d+ won") and not grading.matches(
        "x", r"\d"
    )
    assert grading.within(0.52, 0.5, 0.05) and not grading.within(0.6, 0.5, 0.05)
    assert not grading.within("not a number", 0.5, 0.05)


def test_scaled_gives_linear_partial_credit_in_a_band():
    """Is credit 0 below the band, 1 above it and linear in between?"""
    assert grading.scaled(0.3, zero_at=0.4, full_at=0.8) == 0.0
    assert grading.scaled(0.6, zero_at=0.4, full_at=0.8) == pytest.approx(0.5)
    assert grading.scaled(0.9, zero_at=0.4, full_at=0.8) == 1.0
    with pytest.raises(SettingError):
        grading.scaled(0.5, zero_at=0.8, full_at=0.4)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_marks_print_feedback_and_return_partial_points(lang, capfd):
    """Does total() return the points earned and print feedback in the student's language?"""
    kit.set_language(lang)
    try:
        marks = grading.Marks(3)
        marks.check(True, 1, en="Answer is JSON", ko="답이 JSON이에요")
        marks.check(False, 1, en="Has a 'name' key", ko="'name' 키가 있어요")
        marks.partial(0.5, 1, en="Accuracy", ko="정확도")
        got = marks.total()
    finally:
        kit.set_language(None)
    out, err = capfd.readouterr()
    assert got == 1.5 and err == ""
    if lang == "en":
        assert "✓ Answer is JSON (1/1)" in out and "✗ Has a 'name' key (0/1)" in out
        assert "◐ Accuracy (0.5/1)" in out and "1.5 of 3" in out
    else:
        assert "✓ 답이 JSON이에요 (1/1)" in out and "3점 중 1.5점" in out


def test_marks_count_only_the_checks_a_student_can_see(capfd):
    """Does a release copy (hidden checks removed) total its visible checks only?"""
    marks = grading.Marks(4)
    marks.check(True, 2, en="visible", ko="보이는 검사")
    assert marks.total() == 2 and "2 of 2" in capfd.readouterr().out


def test_marks_refuse_checks_worth_more_than_the_cell():
    """Is a teacher told when a cell's checks add up to more than its points?"""
    marks = grading.Marks(2)
    marks.check(True, 2, en="one", ko="하나")
    marks.check(True, 1, en="two", ko="둘")
    with pytest.raises(SettingError) as caught:
        marks.total()
    assert "3" in str(caught.value) and "2" in str(caught.value)
