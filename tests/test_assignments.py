"""The nbgrader course end to end: release, submit as fake students, autograde, feedback."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from kit.grading.cells import hand_in_part

ROOT = Path(__file__).parent.parent
COURSE = ROOT / "assignments"
ASSIGNMENTS = sorted(p.name for p in (COURSE / "source").iterdir() if p.is_dir())
NBGRADER = str(Path(sys.executable).with_name("nbgrader"))
SOLUTION_LINE = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$", re.MULTILINE)
# The sources run end to end through nbgrader here (conftest.py keeps nbval off them).
PIPELINED = [(a, "en") for a in ASSIGNMENTS] + [("a1-prompt-basics", "ko")]


def grading_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def read(assignment: str, lang: str) -> nbformat.NotebookNode:
    return nbformat.read(COURSE / "source" / assignment / f"{lang}.ipynb", as_version=4)


# --- the sources ------------------------------------------------------------------


class _Texts(ast.NodeTransformer):
    """Blank every text constant: what a notebook says to its model is in its language."""

    def visit_Constant(self, node: ast.Constant) -> ast.Constant:
        return ast.Constant("…") if isinstance(node.value, str) else node


def code_shape(source: str) -> str:
    """Return the code's syntax tree with its texts blanked (comments drop out too)."""
    return ast.dump(_Texts().visit(ast.parse(source)))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_english_and_korean_grade_the_same_way(assignment):
    """Do en and ko hold the same code (texts aside), grade ids, points and cells?

    Prompts, messages and the model's name may be in each notebook's language; names,
    numbers, calls and every grading rule must be the same.
    """

    def shape(lang: str) -> list[tuple]:
        cells = read(assignment, lang).cells
        return [
            (c.cell_type, code_shape(c.source) if c.cell_type == "code" else "",
             json.dumps(grading_meta(c), sort_keys=True))
            for c in cells if c.cell_type == "code" or grading_meta(c)
        ]  # fmt: skip

    assert shape("en") == shape("ko")
    first = read(assignment, "ko").cells[1]
    assert 'kit.set_language("ko")' in first.source


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_assignment_has_hidden_tests_partial_credit_and_a_rubric(assignment):
    """Does every assignment carry hidden tests, scaled marks and a manual answer?"""
    cells = read(assignment, "en").cells
    tests = [c for c in cells if grading_meta(c).get("grade") and c.cell_type == "code"]
    manual = [c for c in cells if grading_meta(c).get("grade")
              and grading_meta(c).get("solution")]  # fmt: skip
    assert tests and manual
    assert any("### BEGIN HIDDEN TESTS" in c.source for c in tests)
    assert all(c.source.rstrip().endswith("marks.total()") for c in tests)
    # Each hands in its answers as data first: the checks run in a fresh process.
    assert all(hand_in_part(c.source) for c in tests)
    assert any("marks.partial(" in c.source for c in tests)
    assert all("### BEGIN SOLUTION" in c.source for c in manual)
    assert (ROOT / "tests" / "assignments" / f"{assignment}.json").is_file()


# --- the teacher's workflow ---------------------------------------------------------


class Course:
    """A private copy of the course root with its own exchange and gradebook."""

    def __init__(self, root: Path, lang: str, timeout: int = 300) -> None:
        self.root = root
        shutil.copytree(COURSE, root, ignore=shutil.ignore_patterns(
            "release", "submitted", "autograded", "feedback", "gradebook.db",
            ".ipynb_checkpoints"))  # fmt: skip
        # nbgrader calls `alembic` by name: the venv's bin must be on PATH.
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        self.env = {**os.environ, "PATH": path, "BAEUM_COURSE_LANG": lang,
                    "BAEUM_EXCHANGE": str(root / "exchange"),
                    "BAEUM_CELL_TIMEOUT": str(timeout)}  # fmt: skip
        (root / "exchange").mkdir()
        self.lang = lang

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([NBGRADER, *args], cwd=self.root, env=self.env,
                              capture_output=True, text=True, timeout=1800)  # fmt: skip
        if check and done.returncode != 0:
            raise AssertionError(
                f"nbgrader {' '.join(args)} failed:\n{done.stderr[-3000:]}"
            )
        return done

    def release(self, assignment: str) -> nbformat.NotebookNode:
        self.run("generate_assignment", assignment, "--force")
        self.run("release_assignment", assignment, "--force")
        return nbformat.read(self.root / "release" / assignment / f"{self.lang}.ipynb",
                             as_version=4)  # fmt: skip

    def submit(self, assignment: str, student: str, notebook) -> None:
        folder = self.root / "students" / student / assignment
        shutil.copytree(self.root / "release" / assignment, folder)
        nbformat.write(notebook, folder / f"{self.lang}.ipynb")
        self.run(
            "submit", str(folder), "--assignment", assignment, "--student", student
        )

    def grade(self, assignment: str) -> None:
        self.run("collect", assignment)
        self.run("autograde", assignment, "--force")
        self.run("generate_feedback", assignment, "--force")

    def points(self, assignment: str, student: str) -> dict[str, float]:
        """Return the autograded points of each test cell, from the gradebook."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as book:
            notebook = book.find_submission_notebook(self.lang, assignment, student)
            return {g.name: g.auto_score for g in notebook.grades
                    if g.cell.cell_type == "code"}  # fmt: skip

    def flagged(self, assignment: str, student: str) -> bool:
        """Return True if formgrader lists the submission as needing a manual grade."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as book:
            notebook = book.find_submission_notebook(self.lang, assignment, student)
            return any(g.needs_manual_grade for g in notebook.grades
                       if g.cell.cell_type == "code")  # fmt: skip


def answered(release, source, cells: dict[str, str] | None = None):
    """A copy of the release with solution cells filled: from the source, or `cells`."""
    notebook = nbformat.from_dict(json.loads(json.dumps(release)))
    solutions = {grading_meta(c).get("grade_id"): c for c in source.cells}
    for cell in notebook.cells:
        meta = grading_meta(cell)
        if not meta.get("solution"):
            continue
        if cells is None:
            cell.source = SOLUTION_LINE.sub(
                "", solutions[meta["grade_id"]].source
            ).strip()
        elif meta["grade_id"] in cells:
            cell.source = cells[meta["grade_id"]]
    return notebook


@pytest.mark.parametrize("assignment, lang", PIPELINED)
def test_release_submit_autograde_feedback(assignment, lang, tmp_path):
    """Do the reference, an empty and a partly right submission get their exact points?"""
    course = Course(tmp_path / "course", lang)
    release = course.release(assignment)
    source = read(assignment, lang)
    tests = {grading_meta(c)["grade_id"]: float(grading_meta(c)["points"])
             for c in release.cells
             if grading_meta(c).get("grade") and c.cell_type == "code"}  # fmt: skip
    assert not any("HIDDEN TESTS" in c.source for c in release.cells)
    assert not any("BEGIN SOLUTION" in c.source for c in release.cells)

    # The student copy fails its grading cells as released.
    released = course.root / "release" / assignment / f"{lang}.ipynb"
    checked = course.run("validate", "--invert", str(released))
    assert "Success! The notebook does not pass any tests." in checked.stdout

    partial = json.loads((ROOT / "tests" / "assignments" / f"{assignment}.json")
                         .read_text())  # fmt: skip
    assert set(partial["points"]) == set(tests)
    course.submit(assignment, "ref", answered(release, source))
    course.submit(assignment, "empty", release)
    course.submit(assignment, "partial", answered(release, source, partial["cells"]))
    course.grade(assignment)

    assert course.points(assignment, "ref") == tests
    # The reference ran every cell without an error: nbval does not run these
    # sources again (conftest.py), this run of them is their check.
    graded = course.root / "autograded" / "ref" / assignment / f"{lang}.ipynb"
    errors = [c.source[:60] for c in nbformat.read(graded, as_version=4).cells
              if any(o.get("output_type") == "error" for o in c.get("outputs", []))]  # fmt: skip
    assert errors == []
    assert course.points(assignment, "empty") == dict.fromkeys(tests, 0.0)
    assert course.points(assignment, "partial") == pytest.approx(partial["points"])
    assert 0 < sum(partial["points"].values()) < sum(tests.values())
    for student in ("ref", "empty", "partial"):
        page = course.root / "feedback" / student / assignment / f"{lang}.html"
        assert "HIDDEN TESTS" not in page.read_text()  # feedback keeps them hidden
