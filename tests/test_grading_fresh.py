"""Grading in a fresh process: answers handed in as data, checks out of the kernel's reach."""

from __future__ import annotations

import pytest

import kit
from kit import grading, messages
from kit.evaluate import Comparison, Report
from kit.grading.answers import Refused, from_data, plain, to_data
from kit.grading.cells import checks_part, hand_in_part, handed_in
from kit.grading.fresh import grade_answers, split_grading_cells
from kit.grading.hand_in import MIME


def code_cell(source: str, **nbgrader) -> dict:
    meta = {"nbgrader": nbgrader} if nbgrader else {}
    return {"cell_type": "code", "source": source, "metadata": meta, "outputs": []}


def given(source: str) -> dict:
    return code_cell(source, locked=True, grade=False, solution=False)


def grading_cell(source: str) -> dict:
    return code_cell(source, grade=True, locked=True, solution=False, points=2)


def handed(answers: dict, folder) -> list[dict]:
    """The outputs hand_in() leaves in a kernel, for these answers."""
    data = {name: to_data(value, name, folder) for name, value in answers.items()}
    return [{"output_type": "display_data", "data": {MIME: data}, "metadata": {}}]


def test_texts_numbers_and_lists_are_handed_in_as_their_raw_data(tmp_path):
    """Does a str subclass that lies in __eq__ or __str__ hand in its real characters?"""

    class Liar(str):
        def __eq__(self, other):
            return True

        def __str__(self):
            return "forged"

        __hash__ = str.__hash__

    value = to_data({"a": [Liar("real"), 2, 0.5, (True, None)]}, "x", tmp_path)
    assert value == {"type": "value", "value": {"a": ["real", 2, 0.5, [True, None]]}}
    assert type(value["value"]["a"][0]) is str
    assert plain(float("nan"), "x") == "nan"  # JSON has no NaN: kept visible as text


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_subclasses_and_unknown_objects_are_refused_with_the_fix(tiny_model, tmp_path,
                                                                  lang):  # fmt: skip
    """Is a Prompt subclass refused in the student's language, naming what to hand in?"""

    class Cheat(kit.Prompt):
        def __call__(self, row, **settings):
            return '{"name": "Mina", "age": 15}'

    messages.set_language(lang)
    try:
        with pytest.raises(Refused) as refused:
            grading.hand_in(extractor=Cheat(tiny_model))
        assert "Cheat" in str(refused.value) and "kit.Prompt(...)" in str(refused.value)
        with pytest.raises(Refused, match="object"):
            grading.hand_in(thing=object())
        with pytest.raises(Refused):
            grading.hand_in()
    finally:
        messages.set_language(None)


def test_a_prompt_is_rebuilt_with_the_teachers_model(tiny_model, tmp_path):
    """Does the rebuilt prompt send the same messages, on the grader's own model object?"""
    prompt = kit.Prompt(tiny_model, "Film: {text}", system="Genre?", max_new_tokens=4,
                        examples=[{"text": "a ghost", "label": "horror"}])  # fmt: skip
    prompt.__call__ = lambda *a, **k: "patched"  # never reaches the grader
    data = to_data(prompt, "prompt", tmp_path)
    rebuilt = from_data(data, {"model": tiny_model}, code=None)
    assert type(rebuilt) is kit.Prompt and rebuilt.model is tiny_model
    assert rebuilt.messages("x") == prompt.messages("x")
    assert rebuilt.max_new_tokens == 4 and "__call__" not in vars(rebuilt)


def test_reports_and_comparisons_round_trip_as_data(tmp_path):
    """Do a report and a comparison come back equal, with Reply outputs as plain text?"""
    report = Report("base", "label", rows=[{"text": "t", "expected": "a", "output": "a",
                                           "score": 1.0}], labels=["a"], seconds=1.5)  # fmt: skip
    back = from_data(to_data(report, "r", tmp_path), {}, code=None)
    assert back == report and back.score == 1.0
    both = Comparison([report, report])
    assert (
        from_data(to_data(both, "c", tmp_path), {}, code=None).reports == [report] * 2
    )


def test_the_hand_in_line_is_cut_from_the_checks():
    """Is hand_in(...) what the kernel runs, and blanked (same line numbers) for the grader?"""
    source = (
        "from kit import grading\n\ngrading.hand_in(\n    a=a,\n)\nmarks = 1\nmarks"
    )
    assert (
        hand_in_part(source)
        == "from kit import grading\n\ngrading.hand_in(\n    a=a,\n)"
    )
    checks = checks_part(source)
    assert "hand_in" not in checks and checks.splitlines()[5] == "marks = 1"
    assert hand_in_part("marks = 1\nmarks") is None
    assert handed_in([{"output_type": "stream", "text": "x"}]) is None


def test_checks_run_on_data_in_a_fresh_process_out_of_the_kernels_reach(tmp_path):
    """Does a function that patches the kit in its own process still get only its real marks?

    The student's function runs in a sandbox process; the checks call it through a pipe.
    Its cell replaces kit.grading.Marks.total there, prints junk, and answers one
    input wrong; the grader's Marks are untouched, so it earns exactly 1 of 2.
    """
    student = (
        "from kit import grading\n"
        "grading.Marks.total = lambda self: 2.0\n"
        "print('junk on stdout')\n"
        "def double(x):\n"
        "    return 2 * x if x != 3 else 0\n"
    )
    namespace: dict = {}
    exec(student, namespace)
    double = namespace["double"]
    import linecache

    double.__code__ = double.__code__.replace(co_filename="<student cell>")
    linecache.cache["<student cell>"] = (len(student), None,
                                         student.splitlines(True), "<student cell>")  # fmt: skip
    cells = [
        given("import kit\nkit.set_language('en')\nINPUTS = [1, 3]"),
        grading_cell(
            "from kit import grading\n\ngrading.hand_in(double=double, n=n)\n"
            "marks = grading.Marks(2)\n"
            "for x in INPUTS:\n"
            "    marks.check(double(x) == 2 * x, 1, en=f'double({x})', ko=f'double({x})')\n"
            "marks.total()"
        ),
        grading_cell("from kit import grading\n\ngrading.hand_in(missing=missing)\n1"),
    ]
    originals = split_grading_cells(cells)
    assert (
        cells[1]["source"]
        == "from kit import grading\n\ngrading.hand_in(double=double, n=n)"
    )
    cells[1]["outputs"] = handed({"double": double, "n": 5}, tmp_path)
    cells[2]["outputs"] = [{"output_type": "error", "ename": "NameError", "evalue": "x",
                            "traceback": []}]  # fmt: skip
    outputs = grade_answers(cells, originals, tmp_path, timeout=60, lang="en")

    printed = "".join(
        o.get("text", "") for o in outputs[1] if o["output_type"] == "stream"
    )
    result = [o for o in outputs[1] if o["output_type"] == "execute_result"]
    assert "✓ double(1)" in printed and "✗ double(3)" in printed
    assert "junk" not in printed
    assert result and result[0]["data"]["text/plain"] == "1.0"
    # A cell whose hand_in() failed in the kernel scores nothing, and says why.
    assert [o["ename"] for o in outputs[2]] == ["NameError", "NotHandedIn"]


def test_a_function_that_never_returns_is_cut_off(tmp_path):
    """Does an endless student function stop its cell at the time limit (0 points)?"""
    student = "def forever(x):\n    while True:\n        pass\n"
    namespace: dict = {}
    exec(compile(student, "<endless cell>", "exec"), namespace)
    import linecache

    linecache.cache["<endless cell>"] = (len(student), None,
                                         student.splitlines(True), "<endless cell>")  # fmt: skip
    cells = [grading_cell(
        "from kit import grading\n\ngrading.hand_in(forever=forever)\n"
        "marks = grading.Marks(1)\n"
        "try:\n    ok = forever(1) == 1\nexcept Exception as problem:\n"
        "    ok = False\n    print(problem)\n"
        "marks.check(ok, 1, en='returns', ko='returns')\nmarks.total()"
    )]  # fmt: skip
    originals = split_grading_cells(cells)
    cells[0]["outputs"] = handed({"forever": namespace["forever"]}, tmp_path)
    outputs = grade_answers(cells, originals, tmp_path, timeout=8, lang="en")
    # Even the check's own `except Exception` cannot swallow the cell's time limit.
    assert [o.get("ename") for o in outputs[0]] == ["CellTimeout"]
