"""Autograde time: a class of 30 submissions per assignment, through real nbgrader.

Run: .venv/bin/python benchmarks/autograde.py [--students 30] [--assignments a1-prompt-basics ...]
Target: a class of 30 for any one assignment in under 10 minutes on the 2-core CPU.
Baselines in the same run: the class autograded by nbgrader's own Execute step (checks
in the student's kernel, which student code can reach) instead of the course's
fresh-process grading; and one submission executed by plain `jupyter nbconvert
--execute` (a kernel start, the model load and every cell), times the class size.
The class is a third reference solutions, a third partly right, a third empty.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "assignments"
BIN = Path(sys.executable).parent
SOLUTION_LINE = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$", re.MULTILINE)
TARGET_S = 600


def run(args: list[str], cwd: Path, env: dict) -> None:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}")


def filled(release, source, cells: dict[str, str] | None):
    """The release with solution cells from the source (None) or from `cells`."""
    notebook = nbformat.from_dict(json.loads(json.dumps(release)))
    answers = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in source.cells}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cells is None:
            cell.source = SOLUTION_LINE.sub(
                "", answers[meta["grade_id"]].source
            ).strip()
        elif meta.get("solution") and meta["grade_id"] in cells:
            cell.source = cells[meta["grade_id"]]
    return notebook


# Appended to a scratch copy of the course config: nbgrader's own steps, for the baseline.
IN_KERNEL = "\nc.Autograde.autograde_preprocessors = nbgrader_steps\n"


def bench(assignment: str, students: int, work: Path) -> tuple[float, float, float]:
    """Return autograde seconds for the class (fresh, in-kernel) and plain s for one."""
    fresh = grade_class(assignment, students, work / "fresh", in_kernel=False)
    in_kernel = grade_class(assignment, students, work / "kernel", in_kernel=True)
    return fresh, in_kernel, plain_run(assignment, work / "fresh" / assignment)


def course_env(root: Path) -> dict:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "BAEUM_EXCHANGE": str(root / "exchange"), "TRANSFORMERS_VERBOSITY": "error"}  # fmt: skip


def grade_class(
    assignment: str, students: int, work: Path, *, in_kernel: bool
) -> float:
    """Return the seconds `nbgrader autograde` takes for a class of `students`."""
    root = work / assignment
    shutil.copytree(COURSE, root, ignore=shutil.ignore_patterns(
        "release", "submitted", "autograded", "feedback", "gradebook.db"))  # fmt: skip
    (root / "exchange").mkdir()
    if in_kernel:
        with open(root / "nbgrader_config.py", "a") as config:
            config.write(IN_KERNEL)
    env = course_env(root)
    nbgrader = [str(BIN / "nbgrader")]
    run(nbgrader + ["generate_assignment", assignment, "--force"], root, env)
    release = nbformat.read(root / "release" / assignment / "en.ipynb", as_version=4)
    source = nbformat.read(root / "source" / assignment / "en.ipynb", as_version=4)
    partial = json.loads(
        (ROOT / "tests" / "assignments" / f"{assignment}.json").read_text()
    )
    kinds = [None, partial["cells"], {}]  # reference, partly right, empty
    for i in range(students):
        folder = root / "submitted" / f"student{i:02d}" / assignment
        shutil.copytree(root / "release" / assignment, folder)
        nbformat.write(filled(release, source, kinds[i % 3]), folder / "en.ipynb")
        (folder / "timestamp.txt").write_text("2026-11-23 09:00:00.000000 UTC")
    started = time.perf_counter()
    run(nbgrader + ["autograde", assignment, "--force"], root, env)
    return time.perf_counter() - started


def plain_run(assignment: str, root: Path) -> float:
    """Return the seconds of one reference submission through plain nbconvert."""
    env = course_env(root)
    release = nbformat.read(root / "release" / assignment / "en.ipynb", as_version=4)
    source = nbformat.read(root / "source" / assignment / "en.ipynb", as_version=4)
    one = root / "plain.ipynb"
    nbformat.write(filled(release, source, None), one)
    env_plain = {**env, "KIT_QUOTA_EXEMPT": "1"}
    started = time.perf_counter()
    run([str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
         "--output", str(root / "plain-out.ipynb"), str(one)], root, env_plain)  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--assignments", nargs="+",
                        default=sorted(p.name for p in (COURSE / "source").iterdir()
                                       if p.is_dir()))  # fmt: skip
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="baeum-autograde-"))
    print(f"{os.cpu_count()} cores · {args.students} submissions each · target "
          f"< {TARGET_S} s per class\n")  # fmt: skip
    print(f"{'assignment':32} {'class s':>8} {'per sub s':>10} {'in-kernel s':>12} "
          f"{'ratio':>6} {'plain×N s':>10} {'target':>7}")  # fmt: skip
    for assignment in args.assignments:
        class_s, kernel_s, plain_s = bench(assignment, args.students, work)
        ok = "✓" if class_s < TARGET_S * args.students / 30 else "✗"
        print(f"{assignment:32} {class_s:8.0f} {class_s / args.students:10.1f} "
              f"{kernel_s:12.0f} {class_s / kernel_s:6.2f} "
              f"{plain_s * args.students:10.0f} {ok:>7}", flush=True)  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
