"""The Baeum service on a single-machine JupyterHub (plain hub or The Littlest JupyterHub).

Load it from jupyterhub_config.py with

    load_subconfig("/path/to/deploy/jupyterhub/baeum_config.py")

or copy it into /opt/tljh/config/jupyterhub_config.d/ on TLJH. It registers `kit serve`
as a hub-managed service named "baeum", lets every user's server token reach it, tells
the kernels where it is (KIT_SERVICE_URL) and makes the hub group "teachers". Settings
come from the hub's environment, so the same file serves every school:

  BAEUM_PYTHON    the Python that has the kit installed (default: the hub's own)
  BAEUM_PORT      where the service listens on this machine (default 8765)
  BAEUM_DIR       the service's folder: ledger, quota file, adapters (default
                  /var/lib/baeum, or ~/.local/share/baeum/service if not writable)
  BAEUM_TEACHERS  hub user names of the teachers, comma-separated
  KIT_*           passed on to the service as they are (KIT_MODEL, KIT_QUOTA_DB, ...)
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821  (jupyterhub provides get_config to config files)

SERVICE = "baeum"
PREFIX = f"/services/{SERVICE}/"
PYTHON = os.environ.get("BAEUM_PYTHON", sys.executable)
PORT = int(os.environ.get("BAEUM_PORT", "8765"))
TEACHERS = [
    n.strip() for n in os.environ.get("BAEUM_TEACHERS", "").split(",") if n.strip()
]
ACCESS = f"access:services!service={SERVICE}"


def _service_dir() -> str:
    chosen = os.environ.get("BAEUM_DIR")
    if chosen:
        return chosen
    system = Path("/var/lib/baeum")
    if os.access(system.parent, os.W_OK) or system.is_dir():
        return str(system)
    return str(Path.home() / ".local/share/baeum/service")


# Managed services keep almost none of the hub's environment (JupyterHub 5+): pass on
# what the kit reads, and a PATH so that the service can find its tools.
environment = {
    key: value
    for key, value in os.environ.items()
    if key.startswith(("KIT_", "HF_")) or key in ("PATH", "HOME", "LANG", "TZ")
}
environment.update(
    KIT_SERVICE_DIR=_service_dir(),
    HF_HUB_OFFLINE="1",  # the service never downloads weights
)
environment.setdefault("KIT_TEACHER_GROUP", "teachers")

c.JupyterHub.services.append(
    {
        "name": SERVICE,
        "url": f"http://127.0.0.1:{PORT}",
        "command": [PYTHON, "-m", "kit.cli", "serve"],
        "environment": environment,
        "oauth_no_confirm": True,  # the teacher's usage page opens without a prompt
        # A browser login to the usage page shows the service the user's groups.
        "oauth_client_allowed_scopes": ["read:users:groups!user"],
        "display": False,
    }
)

# Every user may call the service, and the token of every user's server (the one the
# kernel sees as JUPYTERHUB_API_TOKEN) carries that right, and shows the user's groups
# to the service (that is how it knows a teacher).
c.JupyterHub.load_roles.append({"name": "user", "scopes": ["self", ACCESS]})
c.Spawner.server_token_scopes = [
    "access:servers!server",
    "users:activity!user",
    "read:users:groups!user",
    ACCESS,
]

# Kernels find the service here (directly, not through the proxy: one hop less).
c.Spawner.environment.update({"KIT_SERVICE_URL": f"http://127.0.0.1:{PORT}{PREFIX}"})

# Teachers are a hub group: they see the class's usage and change limits.
c.JupyterHub.load_groups.update({environment["KIT_TEACHER_GROUP"]: {"users": TEACHERS}})
