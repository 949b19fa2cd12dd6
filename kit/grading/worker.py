"""The grading process: the teacher's cells and checks, on answers rebuilt from data.

Started by kit.grading.fresh (`python -m kit.grading.worker RESULTS < job.json`); it
never sees the student's kernel, only the answers that hand_in() wrote as data.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from kit.grading.answers import from_data
from kit.grading.cells import checks_part, error_output, run_cell, time_limit
from kit.grading.sandbox import Sandbox


def grade(job: dict) -> dict[str, list[dict]]:
    """Run the job's given cells in order and each grading cell after them."""
    import kit

    kit.set_language(job.get("lang") or None)
    given: dict = {"__name__": "__main__", "kit": kit}
    given_sources: list[str] = []
    sandbox: list[Sandbox] = []
    results: dict[str, list[dict]] = {}
    folder, timeout = Path(job["folder"]), int(job["timeout"])

    def code(name: str, source: str):
        if not sandbox:
            sandbox.append(Sandbox(list(given_sources), folder, timeout))
        return sandbox[0].define(name, source)

    try:
        for cell in job["cells"]:
            if cell["kind"] == "given":
                given_sources.append(cell["source"])
                outputs = run_cell(cell["source"], given, timeout)
                if any(o["output_type"] == "error" for o in outputs):
                    results[str(cell["index"])] = outputs  # a broken given cell shows
                continue
            namespace = dict(given)
            try:
                with time_limit(timeout):
                    for name, data in cell["answers"].items():
                        namespace[name] = from_data(data, given, code)
            except Exception as problem:  # e.g. an adapter made for another model
                results[str(cell["index"])] = [error_output(problem)]
                continue
            results[str(cell["index"])] = run_cell(
                checks_part(cell["source"]), namespace, timeout
            )
    finally:
        for box in sandbox:
            box.close()
    return results


def main() -> None:
    """Read the job on stdin, write the cells' outputs to the file named on argv."""
    job = json.load(sys.stdin)
    results = grade(job)
    Path(sys.argv[1]).write_text(json.dumps(results), encoding="utf-8")


if __name__ == "__main__":
    main()
