"""nbgrader settings for the Baeum course (nbgrader 0.9). Read by every nbgrader command.

Release language: BAEUM_COURSE_LANG=ko (or en, the default) picks which notebook of
each assignment folder is released and graded; both have the same grading cells.
"""

import os
import sys
import tempfile
from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.converters import Autograde
from nbgrader.preprocessors import ClearHiddenTests, Execute, GetGrades

c = get_config()  # noqa: F821  (nbgrader provides get_config)

here = Path(__file__).resolve().parent
lang = os.environ.get("BAEUM_COURSE_LANG", "en").strip().lower()
if lang not in ("en", "ko"):
    raise SystemExit(f"BAEUM_COURSE_LANG must be 'en' or 'ko', not {lang!r}")
other = "ko" if lang == "en" else "en"

c.CourseDirectory.course_id = os.environ.get("BAEUM_COURSE_ID", "baeum")
c.CourseDirectory.root = str(here)
c.CourseDirectory.notebook_id = lang  # source/<assignment>/en.ipynb or ko.ipynb
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                            f"{other}.ipynb"]  # fmt: skip
c.Exchange.root = os.environ.get("BAEUM_EXCHANGE", "/srv/nbgrader/exchange")

# Stubs students see where a solution was, in the release language.
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()"
    if lang == "en"
    else "# 여기에 코드를 쓰세요 (YOUR CODE HERE)\nraise NotImplementedError()"
}
c.ClearSolutions.text_stub = (
    "YOUR ANSWER HERE" if lang == "en" else "여기에 답을 쓰세요."
)

# Every cell gets this long before it is interrupted (a loop that never ends is cut
# off, graded, and the batch goes on). Fine-tuning cells need about a minute on a CPU.
c.Execute.timeout = int(os.environ.get("BAEUM_CELL_TIMEOUT", "300"))
c.Execute.interrupt_on_timeout = True

# Grades mean what they say: the student's kernel runs their cells and only the
# `grading.hand_in(...)` line of each grading cell; the checks then run in a fresh
# process on the handed-in answers, rebuilt as data by the teacher's own kit and model,
# so nothing a student's code does to its kernel can change a mark. nbgrader's own
# list, with its Execute step replaced (docs/teacher-guide.md, "How grading works").
# Named by import path, so only `nbgrader autograde` imports the kit (torch and
# transformers: seconds of start-up that every other nbgrader command would pay).
FRESH = "kit.grading.nbgrader_execute.GradeInFreshProcess"
nbgrader_steps = Autograde.class_traits()[
    "autograde_preprocessors"
].make_dynamic_default()
c.Autograde.autograde_preprocessors = [
    FRESH if step is Execute else step for step in nbgrader_steps
]

# Feedback shows the score and the checks' messages, never the hidden tests' code.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests,
                                    CSSHTMLHeaderPreprocessor]  # fmt: skip

# Grading never charges or blocks a student, and a submission cannot touch the class
# quota policy or ledger: nbgrader runs student code as the teacher, so the kit is
# pointed at a scratch policy and ledger for the nbgrader command and its kernels.
# Only for `nbgrader ...` commands: a Jupyter server that reads this file (formgrader)
# must not make the teacher's own kernels quota-free.
if Path(sys.argv[0]).name == "nbgrader":
    scratch = Path(tempfile.gettempdir()) / f"baeum-grading-{os.getuid()}"
    scratch.mkdir(mode=0o700, exist_ok=True)
    os.environ["KIT_QUOTA_EXEMPT"] = "1"
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["KIT_QUOTA_FILE"] = str(scratch / "quota.toml")
    os.environ["KIT_QUOTA_DB"] = str(scratch / "ledger.sqlite")
    os.environ["KIT_LANG"] = lang
    # On a hub in hub mode, grade with the model in this process, not the class service:
    # quota-free, the same fp32 greedy answers the bands were measured with, and no
    # teacher's quota spent on 30 submissions. Adapters handed in are folders (hub-mode
    # `adapter.save(path)` writes the files too), so they load here as well.
    os.environ.pop("KIT_SERVICE_URL", None)
