"""Test-session environment for tests/ and the notebooks nbval runs (kernels inherit it)."""

import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).parent
_scratch = Path(tempfile.mkdtemp(prefix="baeum-test-"))

os.environ["HF_HUB_OFFLINE"] = "1"  # nothing downloads, in tests or notebooks
os.environ.setdefault("KIT_LANG", "en")
# One converted copy of the bundled model shared by all workers (they lock while
# converting); kept between local runs, rebuilt on a fresh clone.
os.environ.setdefault("KIT_CACHE_DIR", str(ROOT / ".cache" / "kit"))
# Quotas: built-in defaults and a throw-away ledger, never the developer's own.
os.environ["KIT_QUOTA_FILE"] = str(_scratch / "quota.toml")
# Every notebook of a worker shares this ledger: limits a whole course run fits in.
(_scratch / "quota.toml").write_text(
    "[class]\ngenerations = 100000\ntokens = 10000000\nfinetune_steps = 100000\n"
)
os.environ["KIT_QUOTA_DB"] = str(_scratch / "quota.sqlite")
os.environ.setdefault("MPLBACKEND", "Agg")
# pytest-xdist runs 2 workers (and their notebook kernels) on 2 cores: one thread each.
# Two threads per process on a busy machine made generation up to 50x slower.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("KIT_THREADS", "1")
os.environ.pop("KIT_MODEL", None)  # a plain load_model() follows the lesson's language

pytest_plugins = ["tests.previews"]


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    """Skip nbval on an assignment source the nbgrader pipeline test already runs.

    That test autogrades the reference (every cell, in a kernel) and asserts it has
    no error output, so running it again under nbval only cost minutes of CI.
    """
    source = ROOT / "assignments" / "source"
    if collection_path.suffix != ".ipynb" or collection_path.parent.parent != source:
        return None
    from tests.test_assignments import PIPELINED

    if (collection_path.parent.name, collection_path.stem) in PIPELINED:
        return True
    return None  # rendered lesson previews (build/previews/)
