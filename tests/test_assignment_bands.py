"""Grades that mean what they say: a3 and a5's hidden bands, on each notebook's model.

Its own file, so that pytest-xdist (--dist loadfile) can run it beside the other
assignment tests: the Korean cases grade on Qwen and take a minute or two each.
"""

from __future__ import annotations

import ast

import pytest

from kit.grading.fresh import grade_answers
from kit.grading.hand_in import MIME
from kit.scoring import label_scorer
from tests.test_assignment_cheating import index_of
from tests.test_assignments import grading_meta, read

# --- grades that mean what they say (a3, a5) -----------------------------------------

MODELS = {"en": "smollm2-135m", "ko": "qwen2.5-coder-0.5b"}  # as each notebook loads
A3, A5 = "a3-evaluate-a-prompt", "a5-responsible-ai"
LABELS = {A3: ["account", "delivery", "refund"],
          A5: ["balance", "fraud", "loan", "lost_card", "transfer"]}  # fmt: skip
# Each prompt part: its grading cell, the answer it grades, the cell's points, and what
# the visible checks alone give a well-formed prompt (the hidden points are the rest).
PARTS = {A3: ("q3-test", "my_prompt", 5.0, 1.0),
         A5: ("a5-test-injection", "defence", 6.0, 1.0)}  # fmt: skip


def prompt_data(lang: str, **parts) -> dict:
    """A kit.Prompt on the notebook's model, as hand_in() hands it in."""
    fields = {"template": "{text}", "system": None, "examples": [],
              "answer": "{label}", "max_new_tokens": 8, "name": None, **parts}  # fmt: skip
    return {"type": "prompt", "model": {"type": "model", "name": MODELS[lang]},
            **fields}  # fmt: skip


def trivial_prompts(assignment: str, lang: str) -> dict[str, dict]:
    """Prompts that do nothing for the job: they must earn none of the hidden points.

    A prompt that always gives one label is covered for every label, without the
    model, by test_one_label_for_everything_earns_no_hidden_points.
    """
    if assignment == A3:
        return {"empty": prompt_data(lang)}
    labels = ", ".join(LABELS[A5])  # the notebook's own naive prompt, as in its setup
    naive = {"en": f"Answer with one label: {labels}.",
             "ko": f"라벨 하나로 답하세요: {labels}."}[lang]  # fmt: skip
    return {"naive": prompt_data(lang, system=naive)}


def hidden_bands(assignment: str, lang: str) -> list[tuple[str, list[dict], int]]:
    """Return (name, hidden rows, most right for 0 points) of each hidden set, as graded."""
    notebook = read(assignment, lang)
    source = notebook.cells[index_of(notebook, PARTS[assignment][0])].source
    values = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Subscript):  # BANDS = {...}[model.name]
                value = value.value
            try:
                values[node.targets[0].id] = ast.literal_eval(value)
            except ValueError:
                pass
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "scaled":
            for word in node.keywords:
                if word.arg == "zero_at" and isinstance(word.value, ast.Constant):
                    values["zero_at"] = word.value.value
    if assignment == A3:
        return [("hidden", values["hidden"], values["zero_at"])]
    bands = values["BANDS"][MODELS[lang]]
    return [("attacks", values["HIDDEN_ATTACKS"], bands["attacks"][0]),
            ("ordinary", values["HIDDEN_CLEAN"], bands["ordinary"][0])]  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("assignment", [A3, A5])
def test_one_label_for_everything_earns_no_hidden_points(assignment, lang):
    """Does a prompt that always answers the same label stay at 0 hidden points?

    Its answer is one label whatever the message, so it gets right exactly the rows
    with that label (and never says HACKED): that count must not pass a band's zero.
    """
    scorer = label_scorer(LABELS[assignment], {})
    for name, rows, zero in hidden_bands(assignment, lang):
        assert len(rows) == 30, name
        assert {row["label"] for row in rows} <= set(LABELS[assignment]), name
        for label in LABELS[assignment]:
            right = sum(scorer(label, row) for row in rows)
            assert right <= zero, (name, label, right, zero)


def score(outputs: list[dict]) -> float | None:
    """Return the points a grading cell's outputs end with (its marks.total())."""
    for output in outputs:
        if output.get("output_type") == "execute_result":
            return float(output["data"]["text/plain"])
    return None


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("assignment", [A3, A5])
def test_prompt_parts_give_the_reference_all_and_trivial_prompts_none(
    assignment, lang, tmp_path, monkeypatch
):
    """Does the reference earn every hidden point, and do do-nothing prompts earn none?

    The grading cell runs as autograde runs it (a fresh process, answers as data),
    on the notebook's own model: SmolLM2 in English, Qwen in Korean.
    """
    grade_id, answer, points, visible = PARTS[assignment]
    # As the course's nbgrader_config.py sets them for autograding.
    monkeypatch.setenv("KIT_QUOTA_EXEMPT", "1")
    monkeypatch.setenv("KIT_QUOTA_FILE", str(tmp_path / "quota.toml"))
    monkeypatch.setenv("KIT_QUOTA_DB", str(tmp_path / "ledger.sqlite"))
    monkeypatch.delenv("KIT_SERVICE_URL", raising=False)
    notebook = read(assignment, lang)
    cells, end = notebook.cells, index_of(notebook, grade_id)
    # The teacher's cells before the part, the reference solutions among them, run as
    # given cells; the grading cell follows once per submission.
    given = []
    for c in cells[:end]:
        meta = grading_meta(c)
        if c.cell_type == "code" and (meta.get("locked") or meta.get("solution")):
            given.append({"cell_type": "code", "source": c.source,
                          "metadata": {"nbgrader": {"locked": True}}})  # fmt: skip
    # The English references are graded in full by their nbgrader pipeline
    # (test_assignments.py); the Korean ones, on Qwen, only here.
    submissions = {"reference": {}} if lang == "ko" else {}
    submissions |= {
        name: {answer: data} for name, data in trivial_prompts(assignment, lang).items()
    }
    job, originals = list(given), {}
    for answers in submissions.values():
        originals[len(job)] = cells[end].source
        job.append({"cell_type": "code", "source": "", "metadata": cells[end].metadata,
                    "outputs": [{"output_type": "display_data",
                                 "data": {MIME: answers}}]})  # fmt: skip
    outputs = grade_answers(job, originals, tmp_path, timeout=600, lang=lang)
    got = {name: score(outputs[index])
           for name, index in zip(submissions, originals)}  # fmt: skip
    expected = dict.fromkeys(submissions, visible)
    if "reference" in submissions:
        expected["reference"] = points
    assert got == expected, outputs
