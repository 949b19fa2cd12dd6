"""The teacher's pack: every lesson has a plan in both languages, links and code hold."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import kit

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "docs" / "teachers"
PAGES = sorted(PACK.rglob("*.md")) + [ROOT / "docs" / "glossary.md"]
LESSONS = sorted(p.name for p in (ROOT / "lessons").iterdir() if p.is_dir())
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")
CODE = re.compile(r"```python\n(.*?)```", re.S)


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_lesson_has_a_plan_in_english_and_korean(lesson):
    for name in (f"{lesson}.md", f"{lesson}.ko.md"):
        page = (PACK / "lessons" / name).read_text("utf-8")
        assert "## " in page and len(page) > 2000, name
    english = (PACK / "lessons" / f"{lesson}.md").read_text("utf-8")
    notebook = (ROOT / "lessons" / lesson / "en.ipynb").read_text("utf-8")
    for tier in ("🐢", "🐕", "🦁"):  # an answer for every tier the lesson sets
        if tier in notebook:
            assert tier in english.split("Answer key")[-1], (lesson, tier)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_point_to_files_that_exist(page):
    for target, _ in LINK.findall(page.read_text("utf-8")):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        assert (page.parent / target).exists(), f"{page.name} links to {target}"


def _kit_names(tree: ast.AST) -> set[str]:
    """Return the attributes used on `kit.` in a code block."""
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "kit"
    }


def _model_methods(tree: ast.AST) -> set[str]:
    """Return the methods called on a variable named `model`."""
    return {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "model"
    }


@pytest.mark.parametrize("page", sorted((PACK / "lessons").glob("*.md")),
                         ids=lambda p: p.name)  # fmt: skip
def test_answer_key_code_parses_and_uses_the_real_kit(page):
    blocks = CODE.findall(page.read_text("utf-8"))
    for block in blocks:
        tree = ast.parse(block)  # a syntax error in an answer key fails here
        for name in _kit_names(tree):
            assert hasattr(kit, name), f"{page.name}: kit.{name} does not exist"
        for method in _model_methods(tree):
            assert hasattr(kit.Model, method), f"{page.name}: model.{method}()"
