"""Hub mode end to end: a real JupyterHub, its proxy, the Baeum service, two students.

The hub runs with configurable-http-proxy (npm), the dummy authenticator and local
processes, loads the shipped `deploy/jupyterhub/baeum_config.py`, and manages `kit serve`.
Each student's server is started by the hub (tests/hub_singleuser.py records the
environment it gets); the students' code runs in fresh Python processes with that
environment: plain `kit` calls, as in the lessons.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

ROOT = Path(__file__).resolve().parents[1]
ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef"
STUDENTS = ("alice", "bob")
TEACHER = "teacher"

pytestmark = pytest.mark.real_model


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _proxy_command() -> str:
    found = shutil.which("configurable-http-proxy") or str(
        ROOT / ".venv/node/node_modules/.bin/configurable-http-proxy"
    )
    if not Path(found).exists():
        pytest.fail("configurable-http-proxy is missing: run `make install` (npm).")
    return found


def _wait(check, what: str, timeout: float) -> object:
    """Poll `check` until it returns something true; fail naming `what` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except (httpx.HTTPError, OSError):
            result = None
        if result:
            return result
        time.sleep(0.3)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


class Hub:
    """A running JupyterHub with the Baeum service, driven through its REST API."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port, self.service_port = _free_port(), _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.service_url = f"http://127.0.0.1:{self.service_port}/services/baeum/"
        self.envs = folder / "envs"
        self.envs.mkdir()
        self.service_dir = folder / "service"
        self.log = open(folder / "hub.log", "w")  # noqa: SIM115  (closed in stop)
        self.process: subprocess.Popen | None = None

    def config(self) -> Path:
        """Write the hub's config: test plumbing, then the shipped Baeum snippet."""
        path = self.folder / "jupyterhub_config.py"
        path.write_text(f"""
c = get_config()
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {self.port}
c.JupyterHub.hub_port = {_free_port()}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{_free_port()}"
c.ConfigurableHTTPProxy.command = [{_proxy_command()!r}]
c.JupyterHub.db_url = "sqlite:///{self.folder}/hub.sqlite"
c.JupyterHub.cookie_secret_file = "{self.folder}/cookie_secret"
c.JupyterHub.pid_file = "{self.folder}/hub.pid"
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.Spawner.cmd = [{sys.executable!r}, {str(ROOT / "tests/hub_singleuser.py")!r}]
c.Spawner.environment = {{"E2E_ENV_DIR": {str(self.envs)!r}}}
c.Spawner.http_timeout = 60
c.JupyterHub.services = [{{"name": "e2e-admin", "api_token": {ADMIN_TOKEN!r}}}]
c.JupyterHub.load_roles = [{{
    "name": "e2e-admin", "services": ["e2e-admin"],
    "scopes": ["admin:users", "admin:servers", "tokens", "admin:groups", "list:users"],
}}]
load_subconfig({str(ROOT / "deploy/jupyterhub/baeum_config.py")!r})
""")
        return path

    def start(self) -> None:
        env = {
            **os.environ,
            "BAEUM_PORT": str(self.service_port),
            "BAEUM_DIR": str(self.service_dir),
            "BAEUM_TEACHERS": TEACHER,
            "BAEUM_PYTHON": sys.executable,
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        }
        for local_only in ("KIT_QUOTA_DB", "KIT_QUOTA_FILE", "KIT_QUOTA_EXEMPT"):
            env.pop(local_only, None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(self.config())],
            cwd=self.folder, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        _wait(self._hub_up, "the hub", 90)
        _wait(self.service_up, "the Baeum service", 180)

    def _hub_up(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"the hub exited: see {self.folder / 'hub.log'}")
        return httpx.get(f"{self.url}/hub/api/", timeout=2).status_code == 200

    def service_up(self) -> bool:
        """Return True once the service answers (401 without a token means up)."""
        reply = httpx.get(f"{self.service_url}api/info", timeout=2)
        return reply.status_code == 401

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        """Call the hub's REST API as the test's admin service."""
        headers = {"Authorization": f"token {ADMIN_TOKEN}"}
        return httpx.request(method, f"{self.url}/hub/api/{path}", headers=headers,
                             timeout=30, **kwargs)  # fmt: skip

    def spawn(self, user: str) -> dict[str, str]:
        """Start `user`'s server through the hub; return the environment it got."""
        self.api("POST", "users", json={"usernames": [user]})
        started = self.api("POST", f"users/{user}/server")
        assert started.status_code in (201, 202), started.text
        record = self.envs / f"{user}.json"
        return _wait(lambda: record.exists() and json.loads(record.read_text()),
                     f"{user}'s server", 60)  # fmt: skip

    def service_process(self) -> psutil.Process:
        """Return the running `kit serve` process the hub manages."""
        for child in psutil.Process(self.process.pid).children(recursive=True):
            if "serve" in child.cmdline() and "kit.cli" in child.cmdline():
                return child
        pytest.fail("the hub is not running the Baeum service")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


@contextlib.contextmanager
def running_hub(folder: Path) -> Iterator[Hub]:
    """Start a hub with the Baeum service and the class's servers; stop it after."""
    running = Hub(folder)
    try:
        running.start()
        running.envs_of = {u: running.spawn(u) for u in (*STUDENTS, TEACHER)}
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with running_hub(tmp_path_factory.mktemp("hub")) as running:
        yield running


def run_as(hub: Hub, user: str, code: str, timeout: float = 300) -> dict:
    """Run `code` as `user` in a fresh Python with their server's environment.

    The code prints one JSON line last; it is returned. A KitError is reported as
    {"error": type name, "message": text} the way a notebook shows it.
    """
    recorded = hub.envs_of[user]
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("KIT_", "JUPYTERHUB_"))}  # fmt: skip
    env.update({k: v for k, v in recorded.items() if v}, KIT_LANG="en")
    wrapped = (
        "import json, kit\n"
        "try:\n"
        + "".join(f"    {line}\n" for line in code.strip().splitlines())
        + "except kit.KitError as error:\n"
        "    print(json.dumps({'error': type(error).__name__, 'message': str(error)}))\n"
    )
    done = subprocess.run([sys.executable, "-c", wrapped], env=env, cwd=hub.folder,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


STUDENT_WORK = """
model = kit.load_model()
reply = model.chat("Name one colour.", max_new_tokens=8)
data = kit.datasets.load("finance_support", lang="en")
train, test = data.split(test=0.25, seed=0)
adapter = kit.finetune(model, train, steps=2, batch_size=2, progress=False)
adapter.save("mine")
mine = kit.load_model(adapter="mine")
answer = mine.chat(test[0]["text"], max_new_tokens=8)
print(json.dumps({"reply": str(reply), "reply_tokens": reply.tokens,
                  "answer": str(answer), "answer_tokens": answer.tokens,
                  "steps": adapter.manifest["steps"], "model": repr(model)}))
"""


def test_students_chat_and_fine_tune_with_unchanged_kit_code(hub):
    for student in STUDENTS:
        done = run_as(hub, student, STUDENT_WORK)
        assert "error" not in done, done
        assert done["reply"] and done["answer"], done
        assert done["steps"] == 2
        assert "service" in done["model"].lower()
    # Each student's work is on the service's disk, not in the student's folder.
    for student in STUDENTS:
        assert (hub.service_dir / "adapters" / student / "mine").exists()


def test_a_student_cannot_use_another_students_adapter(hub):
    done = run_as(hub, "bob", 'kit.load_model(adapter="alice/mine")\nprint("{}")')
    assert done["error"] == "NotAllowed", done
    token = hub.envs_of["bob"]["JUPYTERHUB_API_TOKEN"]
    raw = httpx.post(f"{hub.service_url}api/chat", timeout=30,
                     headers={"Authorization": f"token {token}"},
                     json={"messages": [{"role": "user", "content": "hi"}],
                           "adapter": "alice/mine"})  # fmt: skip
    assert raw.status_code == 403
    assert raw.json()["message"]["en"]


def test_forged_missing_or_unscoped_tokens_are_refused(hub):
    info = f"{hub.service_url}api/info"
    assert httpx.get(info, timeout=10).status_code == 401
    forged = {"Authorization": "token not-a-real-token"}
    assert httpx.get(info, headers=forged, timeout=10).status_code == 401
    # A real hub token of alice's that lacks access to the service is not enough.
    made = hub.api("POST", "users/alice/tokens",
                   json={"scopes": ["read:users:name!user=alice"], "note": "e2e"})  # fmt: skip
    assert made.status_code == 201, made.text
    unscoped = {"Authorization": f"token {made.json()['token']}"}
    assert httpx.get(info, headers=unscoped, timeout=10).status_code == 403


def test_students_cannot_reach_teacher_endpoints(hub):
    token = hub.envs_of["alice"]["JUPYTERHUB_API_TOKEN"]
    headers = {"Authorization": f"token {token}"}
    for method, path, body in [
        ("GET", "api/quota/class", None),
        ("PUT", "api/quota/limits", {"limits": {"tokens": 1_000_000}}),
        ("GET", "usage", None),
    ]:
        answer = httpx.request(method, hub.service_url + path, headers=headers,
                               json=body, timeout=30)  # fmt: skip
        assert answer.status_code == 403, (path, answer.status_code)


def class_usage(hub: Hub) -> dict:
    token = hub.envs_of[TEACHER]["JUPYTERHUB_API_TOKEN"]
    answer = httpx.get(f"{hub.service_url}api/quota/class", timeout=30,
                       headers={"Authorization": f"token {token}"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    return answer.json()["students"]


def test_quotas_are_per_student_exact_and_teachers_see_them(hub):
    before = class_usage(hub)
    done = run_as(hub, "alice", """
model = kit.load_model()
replies = [model.chat(f"Count to {n}.", max_new_tokens=6) for n in (2, 3, 4)]
print(json.dumps({"tokens": sum(r.tokens for r in replies)}))
""")  # fmt: skip
    after = class_usage(hub)
    alice0 = before.get("alice", {})
    assert after["alice"]["generations"] == alice0.get("generations", 0) + 3
    assert after["alice"]["tokens"] == alice0.get("tokens", 0) + done["tokens"]
    assert after["bob"] == before["bob"]  # alice's work is never charged to bob

    # The teacher limits bob from their own kernel's command line; no restart.
    teacher_env = {**os.environ, **{k: v for k, v in hub.envs_of[TEACHER].items() if v}}
    teacher_env.pop("KIT_QUOTA_FILE", None)
    changed = subprocess.run(
        [sys.executable, "-m", "kit.cli", "quota", "set", "--student", "bob",
         f"tokens={int(after['bob']['tokens'])}"],
        env=teacher_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    shown = subprocess.run([sys.executable, "-m", "kit.cli", "quota", "show", "--class"],
                           env=teacher_env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "alice" in shown.stdout and "bob" in shown.stdout
    page = httpx.get(f"{hub.service_url}usage", timeout=30, headers={
        "Authorization": f"token {hub.envs_of[TEACHER]['JUPYTERHUB_API_TOKEN']}"})  # fmt: skip
    assert page.status_code == 200 and "alice" in page.text and "<img" in page.text

    blocked = run_as(hub, "bob", 'kit.load_model().chat("hi", max_new_tokens=4)\n'
                     'print("{}")')  # fmt: skip
    assert blocked["error"] == "QuotaExceeded", blocked
    still = run_as(hub, "alice", 'print(json.dumps({"t": str(kit.load_model().chat('
                   '"hi", max_new_tokens=4))}))')  # fmt: skip
    assert still.get("t"), still


def test_a_restart_loses_nothing_and_in_flight_requests_fail_clearly(hub):
    before = class_usage(hub)
    recorded = run_as(hub, "alice", """
mine = kit.load_model(adapter="mine")
print(json.dumps({"text": str(mine.chat("Where is my card?", max_new_tokens=8))}))
""")  # fmt: skip
    before = class_usage(hub)

    # A long generation is in flight when the service is restarted.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("KIT_", "JUPYTERHUB_"))}  # fmt: skip
    env.update({k: v for k, v in hub.envs_of["alice"].items() if v}, KIT_LANG="en")
    long_run = subprocess.Popen(
        [sys.executable, "-c", "import kit\ntry:\n"
         "    kit.load_model().generate('Once upon a time', max_new_tokens=3000)\n"
         "except kit.KitError as e:\n    print(type(e).__name__, e)\n"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    _wait(lambda: class_usage(hub)["alice"]["tokens"] >= before["alice"]["tokens"]
          + 3000, "the long request to reach the service", 60)  # fmt: skip
    old = hub.service_process()
    old.send_signal(signal.SIGTERM)
    out, err = long_run.communicate(timeout=60)  # a hang fails the test here
    assert out.startswith("ServiceUnavailable"), (out, err[-2000:])

    # The hub starts the service again; the ledger and the adapter are all there.
    _wait(lambda: not old.is_running(), "the old service to exit", 60)
    _wait(hub.service_up, "the service to come back", 180)
    after = class_usage(hub)
    assert after["bob"] == before["bob"]
    assert after["alice"]["generations"] >= before["alice"]["generations"]
    again = run_as(hub, "alice", """
mine = kit.load_model(adapter="mine")
print(json.dumps({"text": str(mine.chat("Where is my card?", max_new_tokens=8))}))
""")  # fmt: skip
    assert again == recorded
