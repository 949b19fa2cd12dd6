"""Rendered previews of every lesson: HTML of the notebooks as nbval ran them.

A pytest plugin (loaded by the root conftest): each lesson cell's outputs are kept as
nbval runs it, and when a notebook's last cell is done its HTML, outputs and all, is
written to build/previews/<lesson>/<lang>.html. The .ipynb files stay without outputs.
`tests/check_previews.py` checks the result after the run (`make test` calls it).
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
PREVIEWS = ROOT / "build" / "previews"
LESSONS = ROOT / "lessons"


def preview_path(notebook: Path) -> Path:
    """Return where the preview of a lesson notebook is written."""
    relative = notebook.resolve().relative_to(LESSONS)
    return PREVIEWS / relative.with_suffix(".html")


def _is_lesson_cell(item: pytest.Item) -> bool:
    path = Path(str(getattr(item, "fspath", "")))
    return (
        hasattr(item, "cell")
        and hasattr(item, "test_outputs")
        and LESSONS in path.resolve().parents
    )


def _as_output(out) -> nbformat.NotebookNode:
    """Return an nbval output as a valid nbformat 4 output."""
    kind = out.get("output_type")
    if kind == "stream":
        return nbformat.v4.new_output("stream", name=out.get("name", "stdout"),
                                      text=out.get("text", ""))  # fmt: skip
    if kind == "error":
        return nbformat.v4.new_output("error", ename=out.get("ename", ""),
                                      evalue=out.get("evalue", ""),
                                      traceback=list(out.get("traceback", [])))  # fmt: skip
    made = nbformat.v4.new_output(kind, data=dict(out.get("data", {})),
                                  metadata=dict(out.get("metadata", {})))  # fmt: skip
    if kind == "execute_result":
        made["execution_count"] = out.get("execution_count")
    return made


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    yield  # the cell has run (or failed): its outputs are in item.test_outputs
    if _is_lesson_cell(item):
        item.cell.outputs = [_as_output(o) for o in item.test_outputs or []]
        item.cell.execution_count = item.cell_num + 1


def pytest_runtest_setup(item: pytest.Item) -> None:
    if _is_lesson_cell(item) and item.cell_num == 0:  # a new run: no stale preview
        preview_path(Path(str(item.fspath))).unlink(missing_ok=True)


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if not _is_lesson_cell(item):
        return
    if nextitem is not None and getattr(nextitem, "parent", None) is item.parent:
        return  # more cells of this notebook to come
    from nbconvert import HTMLExporter

    notebook = copy.deepcopy(item.parent.nb)
    notebook.metadata.pop("widgets", None)
    html, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    target = preview_path(Path(str(item.fspath)))
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_suffix(".html.tmp")
    temp.write_text(html, encoding="utf-8")
    temp.replace(target)
