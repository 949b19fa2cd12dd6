"""Cheating and breakage in the nbgrader course: each case is graded fairly, none stops the batch.

A file of its own so pytest-xdist (--dist loadfile) runs it beside the pipelines; the
students who game the grading itself are in test_assignment_gaming.py, beside this one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat

from tests.test_assignments import Course, answered, grading_meta, read

A1 = "a1-prompt-basics"


def edited(notebook, grade_id: str, source: str | None):
    """A copy of `notebook` with one cell's source changed, or the cell deleted (None)."""
    copy = nbformat.from_dict(json.loads(json.dumps(notebook)))
    for index, cell in enumerate(copy.cells):
        if grading_meta(cell).get("grade_id") == grade_id:
            if source is None:
                del copy.cells[index]
            else:
                cell.source = source
            return copy
    raise KeyError(grade_id)


def test_tampering_slow_and_broken_submissions_are_graded_fairly(tmp_path):
    """Do edited or deleted grading cells, endless loops, errors and quota tricks fail safe?"""
    course = Course(tmp_path / "course", "en", timeout=30)
    release = course.release(A1)
    source = read(A1, "en")
    reference = answered(release, source)

    # The teacher's real class policy and ledger, as the teacher's shell has them.
    policy = tmp_path / "class-quota.toml"
    policy.write_text("[class]\ngenerations = 5\n")
    course.env.update(KIT_QUOTA_FILE=str(policy),
                      KIT_QUOTA_DB=str(tmp_path / "class-ledger.sqlite"))  # fmt: skip
    kit_cli = str(Path(sys.executable).with_name("kit"))
    tricks = (
        "import subprocess\n"
        f"subprocess.run([{kit_cli!r}, 'quota', 'set', 'generations=999999'])\n"
        "for _ in range(10_000):\n"
        "    model.chat('Say hi.', max_new_tokens=1, stream=False)\n"
    )
    submissions = {
        # Rewrites a grading cell to award itself full points.
        "forger": edited(reference, "q1-test", "4"),
        # Deletes a grading cell.
        "deleter": edited(reference, "q2-test", None),
        # Never finishes its first answer.
        "looper": edited(reference, "q1-extractor", "while True:\n    pass"),
        # Raises in every cell it owns.
        "raiser": edited(
            edited(reference, "q1-extractor", "raise RuntimeError('no')"),
            "q2-reviewer",
            "1 / 0",
        ),  # fmt: skip
        # Tries to lift its own quota, then calls the model without end.
        "greedy": edited(
            reference,
            "q1-extractor",
            tricks
            + answered(release, source).cells[index_of(release, "q1-extractor")].source,
        ),  # fmt: skip
    }
    for student, notebook in submissions.items():
        course.submit(A1, student, notebook)
    course.submit(A1, "ref", reference)
    course.grade(A1)

    full = course.points(A1, "ref")
    assert full == {"q1-test": 4.0, "q2-test": 3.0}
    # nbgrader's checksums restore the edited cell: the forger gets the real score.
    assert course.points(A1, "forger") == full
    forged = (course.root / "autograded" / "forger" / A1 / "en.ipynb").read_text()
    assert "grading.Marks(4)" in forged
    # A deleted grading cell earns nothing by itself: it is left for the teacher.
    assert course.points(A1, "deleter") == {"q1-test": 4.0, "q2-test": None}
    assert course.flagged(A1, "deleter") and not course.flagged(A1, "ref")
    # The endless loop is cut off: part 1 scores 0, part 2 still counts.
    assert course.points(A1, "looper") == {"q1-test": 0.0, "q2-test": 3.0}
    assert course.points(A1, "raiser") == {"q1-test": 0.0, "q2-test": 0.0}
    # The quota trick changed nothing outside the grading run, and its endless
    # model calls were cut off by the timeout without stopping the batch.
    assert policy.read_text() == "[class]\ngenerations = 5\n"
    assert course.points(A1, "greedy")["q2-test"] == 3.0
    assert course.points(A1, "greedy")["q1-test"] == 0.0


def index_of(notebook, grade_id: str) -> int:
    """Return the position of the cell with `grade_id`."""
    return next(i for i, c in enumerate(notebook.cells)
                if grading_meta(c).get("grade_id") == grade_id)  # fmt: skip
