"""nbgrader's Execute step, with grading cells' checks run in a fresh process.

nbgrader_config.py puts it in place of Execute in `Autograde.autograde_preprocessors`:
the student's kernel runs their cells and only the hand-in line of each grading cell;
kit.grading.fresh then scores the handed-in answers with the teacher's kit and model.
"""

from __future__ import annotations

import os
from pathlib import Path

from nbformat import from_dict
from nbgrader.preprocessors import Execute

from kit.grading.fresh import grade_answers, split_grading_cells


class GradeInFreshProcess(Execute):
    """Run the notebook as nbgrader does, then grade the handed-in answers afresh."""

    def preprocess(self, nb, resources=None, *args, **kwargs):
        originals = split_grading_cells(nb.cells)
        outputs: dict[int, list[dict]] = {}
        try:
            nb, resources = super().preprocess(nb, resources, *args, **kwargs)
            if originals:
                folder = Path((resources or {}).get("metadata", {}).get("path") or ".")
                outputs = grade_answers(nb.cells, originals, folder.resolve(),
                                        timeout=int(self.timeout or 300),
                                        lang=os.environ.get("KIT_LANG", "en"),
                                        log=self.log.warning)  # fmt: skip
        finally:  # the teacher's full grading cells go back, whatever happened
            for index, source in originals.items():
                nb.cells[index].source = source
                if index in outputs:
                    nb.cells[index].outputs = [from_dict(o) for o in outputs[index]]
        return nb, resources
