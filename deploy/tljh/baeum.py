"""The Baeum service on The Littlest JupyterHub (TLJH): a jupyterhub_config.d snippet.

Install (step by step, with checks: docs/hub.md, "The Littlest JupyterHub"):

    sudo cp deploy/jupyterhub/baeum_config.py /opt/tljh/config/baeum_config.py
    sudo cp deploy/tljh/baeum.py /opt/tljh/config/jupyterhub_config.d/baeum.py
    sudo tljh-config reload hub

TLJH loads every /opt/tljh/config/jupyterhub_config.d/*.py when the hub starts. This
file sets what is particular to TLJH (the kit lives in TLJH's user environment; the
converted model in /var/cache/baeum) and then loads the single-machine hub config,
which registers the hub-managed service "baeum", the roles and server token scopes,
KIT_SERVICE_URL for the students' servers and the hub group "teachers". That file
stays outside jupyterhub_config.d, so that TLJH does not load it twice.
"""

import os
from pathlib import Path

# --- edit for your school ---------------------------------------------------------
# Hub user names of the teachers, comma-separated, e.g. "kim.teacher,lee.teacher".
# You can also add teachers later on the hub's admin page (Admin > Groups > teachers).
TEACHERS = ""
# -----------------------------------------------------------------------------------

TLJH = Path(os.environ.get("TLJH_INSTALL_PREFIX") or "/opt/tljh")
# The single-machine config reads its settings from the hub's environment.
os.environ.setdefault("BAEUM_PYTHON", str(TLJH / "user" / "bin" / "python"))
os.environ.setdefault("KIT_CACHE_DIR", "/var/cache/baeum")
if TEACHERS.strip():
    os.environ.setdefault("BAEUM_TEACHERS", TEACHERS)

# __file__ is this snippet's path when a config loader runs it, as TLJH's does.
shared = Path(
    os.environ.get("BAEUM_CONFIG") or Path(__file__).parent.parent / "baeum_config.py"
)
if not shared.is_file():
    # load_subconfig skips a missing file without a word: say what is wrong instead.
    raise FileNotFoundError(
        f"Baeum: {shared} is missing, so the Baeum service cannot be set up. Copy "
        "deploy/jupyterhub/baeum_config.py from the Baeum repository there "
        "(see docs/hub.md), then run: sudo tljh-config reload hub"
    )
load_subconfig(str(shared))  # noqa: F821  (jupyterhub provides load_subconfig too)
