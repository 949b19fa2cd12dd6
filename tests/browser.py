"""Browser-test helpers: start JupyterLab, drive headless Chromium with Playwright."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"  # gitignored: screenshots for people to look at
CHROMIUM = Path("/usr/bin/chromium")  # Debian's build; Playwright's own is not used
INSTALL_HINT = (
    f"Chromium is not installed at {CHROMIUM}. Run `scripts/install-browser.sh` "
    "as root (it installs Debian's chromium package), then run the tests again."
)
# This network is closed: without the background-networking flags Chromium keeps
# trying to reach Google services, which slows it down.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Per-user JupyterLab settings for a quiet, predictable page: every cell in the DOM
# (no windowing), and no news or update checks over the network.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def require_chromium() -> Path:
    """Return Chromium's path, or fail the test saying how to install it."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(INSTALL_HINT, pytrace=False)
    return CHROMIUM


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_notebook(path: Path, cells: list[str]) -> Path:
    """Write a notebook of code cells with the python3 kernel; return its path."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, path)
    return path


def cell_index(path: Path, needle: str) -> int:
    """Return the index of the first code cell whose source contains `needle`."""
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and needle in cell.source:
            return i
    raise LookupError(f"no code cell of {path} contains {needle!r}")


@dataclass
class Lab:
    """A running JupyterLab server."""

    base: str
    token: str
    root: Path
    log: Path
    process: subprocess.Popen

    def url(self, path: str = "") -> str:
        """Return the URL that opens `path` (relative to the root) in JupyterLab."""
        return f"{self.base}lab/tree/{path}?token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        """Return the end of the server's log, to explain a failure."""
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def _get(self, path: str, method: str = "GET") -> int:
        request = urllib.request.Request(
            f"{self.base}{path}", method=method,
            headers={"Authorization": f"token {self.token}"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status


@contextmanager
def jupyter_lab(root: Path, *, timeout: float = 60) -> Iterator[Lab]:
    """Run JupyterLab on `root` (this environment's, with os.environ) until exit."""
    home = Path(tempfile.mkdtemp(prefix="baeum-lab-"))
    for name, values in LAB_SETTINGS.items():
        file = home / "settings" / f"{name}.jupyterlab-settings"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(values))
    env = {
        **os.environ,  # the kernel must see the test environment (offline, caches)
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
    }
    token, port = secrets.token_hex(16), free_port()
    command = [
        str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser",
        f"--ServerApp.token={token}", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run commands
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    if os.geteuid() == 0:  # CI containers run as root; Jupyter refuses that by default
        command.append("--ServerApp.allow_root=True")
    log = home / "lab.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    lab = Lab(f"http://127.0.0.1:{port}/", token, root, log, process)
    try:
        _wait_until_up(lab, timeout)
        yield lab
    finally:
        _stop(lab)
        shutil.rmtree(home, ignore_errors=True)


def _wait_until_up(lab: Lab, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            break
        try:
            if lab._get("api/status") == 200:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"JupyterLab did not start:\n{lab.log_tail()}")


def _stop(lab: Lab) -> None:
    """Shut the server down (it stops its kernels), then make sure it is gone."""
    if lab.process.poll() is None:
        try:
            lab._get("api/shutdown", method="POST")
            lab.process.wait(timeout=15)
        except (urllib.error.URLError, OSError, subprocess.TimeoutExpired):
            pass
    if lab.process.poll() is None:
        os.killpg(lab.process.pid, signal.SIGTERM)  # our own child's group only
        try:
            lab.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(lab.process.pid, signal.SIGKILL)
            lab.process.wait()


@contextmanager
def chromium_page(width: int = 1280, height: int = 1000, timeout_ms: int = 60_000):
    """Yield a Playwright page in headless Chromium with a fresh profile."""
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="baeum-chromium-") as profile:
        with sync_playwright() as pw:
            # A persistent context is how Playwright takes --user-data-dir.
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=str(executable), headless=True,
                args=CHROMIUM_ARGS, viewport={"width": width, "height": height},
            )  # fmt: skip
            try:
                page = context.pages[0] if context.pages else context.new_page()
                page.set_default_timeout(timeout_ms)
                yield page
            finally:
                context.close()


_KERNEL_IDLE = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session
    && panel.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle';
}"""

# Select cells 0..index and run them like Run All does: every request is sent at
# once, so the kernel skips the rest after an error. Not awaited: a hanging cell
# must hit wait_for_widget's timeout, not block the page.
_RUN_THROUGH = """(index) => {
  const app = window.jupyterapp;
  const notebook = app.shell.currentWidget.content;
  notebook.activeCellIndex = 0;
  notebook.deselectAll();
  notebook.extendContiguousSelectionTo(index);
  app.commands.execute('notebook:run-cell');
}"""


def open_notebook(page, lab: Lab, path: str) -> None:
    """Open a notebook in JupyterLab and wait until its kernel is idle."""
    page.goto(lab.url(path))
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    accept = page.locator(".jp-Dialog .jp-mod-accept")  # "Select Kernel", if asked
    deadline = time.monotonic() + 60
    while not page.evaluate(_KERNEL_IDLE):
        if accept.count():
            accept.first.click()
        if time.monotonic() > deadline:
            raise TimeoutError(f"the kernel did not start:\n{lab.log_tail()}")
        page.wait_for_timeout(200)


def run_through(page, index: int) -> None:
    """Start running the notebook's cells from the first through cell `index`."""
    page.evaluate(_RUN_THROUGH, index)


def run_all(page) -> None:
    """Start running every cell of the notebook (menu Run > Run All Cells)."""
    page.evaluate(
        "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
    )


_ERROR_OUTPUT = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"


def wait_for_widget(page, selector: str, timeout: float = 90) -> None:
    """Wait until `selector` is visible; fail at once if a cell shows an error."""
    target, errors = page.locator(selector).first, page.locator(_ERROR_OUTPUT)
    deadline = time.monotonic() + timeout
    while True:
        for i in range(errors.count()):
            text = errors.nth(i).inner_text()
            if "Error" in text or "Traceback" in text:
                raise AssertionError(f"a cell failed before {selector} showed:\n{text}")
        if target.is_visible():
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{selector} did not appear within {timeout:.0f} s")
        page.wait_for_timeout(250)


def screenshot(page, name: str, locator=None) -> Path:
    """Save a screenshot in test-artifacts/ (of `locator` scrolled into view)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if locator is not None:
        locator.scroll_into_view_if_needed()
    page.screenshot(path=path)
    return path
