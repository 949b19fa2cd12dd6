"""Notebooks as committed: valid, without outputs or widget state, en and ko in step."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).parent.parent
NOTEBOOKS = sorted(
    p for folder in ("lessons", "assignments/source") for p in (ROOT / folder).rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts
)  # fmt: skip
LANGUAGE_CALL = re.compile(r'kit\.set_language\("(en|ko)"\)')
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]-*/"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_valid_and_clean(path):
    """Is the notebook valid nbformat 4, with no outputs, counts or widget state?"""
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert "widgets" not in notebook.metadata
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: cell {cell.id} has outputs"
            assert cell.execution_count is None


def kit_calls(source: str) -> list[str]:
    """Return the kit API a code cell calls, in order: kit.X() and the kit types' methods."""
    import ast

    import kit

    methods = {name for cls in (kit.Model, kit.Prompt, kit.Adapter)
               for name in dir(cls) if not name.startswith("_")}  # fmt: skip
    calls = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            root = node.func.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id == "kit":
                calls.append(ast.unparse(node.func))
            elif node.func.attr in methods:
                calls.append("." + node.func.attr)
    return calls


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_english_and_korean_lessons_make_the_same_kit_calls(lesson):
    """Do en.ipynb and ko.ipynb hold the same code cells, in order, with the same kit calls?

    The prompts, examples, data and expected answers are in each notebook's language.
    """

    def calls(name: str) -> list[list[str]]:
        notebook = nbformat.read(lesson / name, as_version=4)
        return [kit_calls(c.source) for c in notebook.cells if c.cell_type == "code"]

    assert calls("en.ipynb") == calls("ko.ipynb")


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_each_notebook_sets_its_own_language(lesson):
    """Does en.ipynb show English and ko.ipynb Korean, whatever the locale?"""
    for lang in ("en", "ko"):
        notebook = nbformat.read(lesson / f"{lang}.ipynb", as_version=4)
        first = next(c.source for c in notebook.cells if c.cell_type == "code")
        assert f'kit.set_language("{lang}")' in first


def test_there_is_a_lesson_to_open():
    """Does `make lab` find at least the starter lesson in both languages?"""
    assert (ROOT / "lessons" / "00-start" / "en.ipynb").is_file()
    assert (ROOT / "lessons" / "00-start" / "ko.ipynb").is_file()
