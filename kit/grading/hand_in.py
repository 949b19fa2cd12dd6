"""hand_in: the first line of a grading cell, naming the answers the grader scores."""

from __future__ import annotations

import os
from pathlib import Path

from kit import messages
from kit.grading.answers import Refused, to_data
from kit.notebook import in_notebook

# The output that carries the answers from the student's kernel to the grader.
MIME = "application/vnd.baeum.answers+json"


def hand_in(**answers: object) -> None:
    """Hand in answers by name, e.g. hand_in(extractor=extractor), as plain data.

    When nbgrader autogrades, only this line runs in the student's kernel: the checks
    after it run in a fresh process, on these answers rebuilt by the teacher's kit.
    """
    if not answers:
        raise Refused("hand_in_nothing")
    folder = Path(os.getcwd())
    data, shown = {}, []
    for name, value in answers.items():
        data[name] = to_data(value, name, folder)
        shown.append(f"{name} ({_kind(data[name])})")
    _show(
        {MIME: data, "text/plain": messages.t("hand_in_done", names=", ".join(shown))}
    )


def _kind(data: dict) -> str:
    if data["type"] == "value":
        return type(data["value"]).__name__
    return {"prompt": "kit.Prompt", "model": "kit.Model", "adapter": "kit.Adapter",
            "report": "kit.evaluate report", "comparison": "kit.compare",
            "code": "code"}[data["type"]]  # fmt: skip


def _show(bundle: dict) -> None:
    if in_notebook():
        from IPython.display import display

        display(bundle, raw=True)
    else:  # plain Python: the text is enough
        print(bundle["text/plain"])
