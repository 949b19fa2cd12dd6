"""Grade a run notebook's handed-in answers in a fresh process (kit.grading.worker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from kit import messages
from kit.grading.cells import hand_in_part, handed_in


def is_grading_cell(cell) -> bool:
    """Return True for an nbgrader code cell that is graded automatically."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade"))


def is_given_cell(cell) -> bool:
    """Return True for a teacher's locked code cell (setup, data): the grader re-runs it."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return (cell.get("cell_type") == "code" and bool(meta.get("locked"))
            and not meta.get("grade") and not meta.get("solution"))  # fmt: skip


def split_grading_cells(cells: list) -> dict[int, str]:
    """Cut each grading cell down to its hand-in part; return the full sources by index."""
    originals = {}
    for index, cell in enumerate(cells):
        part = hand_in_part(cell["source"]) if is_grading_cell(cell) else None
        if part is not None:
            originals[index], cell["source"] = cell["source"], part
    return originals


def grade_answers(
    cells: list,
    originals: dict[int, str],
    folder: Path,
    *,
    timeout: int,
    lang: str,
    log=None,
) -> dict[int, list[dict]]:
    """Return the new outputs of each grading cell in `originals`, graded afresh.

    `cells` have run in the student's kernel with only their hand-in parts; a cell
    whose hand_in() did not run keeps its kernel outputs plus a line that says so.
    """
    job_cells, outputs = [], {}
    for index, cell in enumerate(cells):
        if is_given_cell(cell):
            job_cells.append(
                {"index": index, "kind": "given", "source": cell["source"]}
            )
        elif index in originals:
            answers = handed_in(cell.get("outputs", []))
            if answers is None:
                outputs[index] = _not_handed_in(cell.get("outputs", []), lang)
            else:
                job_cells.append({"index": index, "kind": "grade", "answers": answers,
                                  "source": originals[index]})  # fmt: skip
    graded = [c["index"] for c in job_cells if c["kind"] == "grade"]
    if graded:
        job = {
            "cells": job_cells,
            "folder": str(folder),
            "timeout": timeout,
            "lang": lang,
        }
        results, problem = _run_worker(job, folder, timeout * (len(job_cells) + 2))
        if problem and log is not None:
            log(f"the grading process stopped: {problem}")
        for index in graded:
            outputs[index] = results.get(str(index)) or [_stopped(lang)]
    return outputs


def _run_worker(job: dict, folder: Path, limit: int) -> tuple[dict, str]:
    """Return the worker's results by cell index, and what went wrong if it stopped."""
    with tempfile.TemporaryDirectory(prefix="baeum-grading-") as scratch:
        result = Path(scratch) / "results.json"
        try:
            done = subprocess.run(
                [sys.executable, "-m", "kit.grading.worker", str(result)],
                input=json.dumps(job), text=True, cwd=folder, timeout=limit,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                env={**os.environ, "PYTHONNOUSERSITE": "1"},
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return {}, f"no result within {limit} s"
        if not result.exists():
            return {}, done.stderr[-2000:]
        return json.loads(result.read_text(encoding="utf-8")), ""


def _not_handed_in(kernel_outputs: list, lang: str) -> list[dict]:
    note = {"output_type": "error", "ename": "NotHandedIn", "evalue": "",
            "traceback": [messages.t("hand_in_missing", lang)]}  # fmt: skip
    errors = [o for o in kernel_outputs if o.get("output_type") == "error"]
    return [*errors, note]


def _stopped(lang: str) -> dict:
    return {"output_type": "error", "ename": "GradingStopped", "evalue": "",
            "traceback": [messages.t("hand_in_grader_stopped", lang)]}  # fmt: skip
