"""Fine-tunes on a GPU node: a worker claims, trains, reports and hands back (pull)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from contextlib import contextmanager

import httpx
import kubernetes_validate
import pytest
import yaml

import kit
from kit.cli import finetune_worker
from kit.cli.finetune_worker import Worker, WorkerClient
from kit.errors import SettingError
from kit.service.config import ServiceConfig
from tests.hubfake import serving, student, teacher
from tests.test_deploy import K8S_VERSIONS, OBJECTS, ROOT, Z2JH, _env, _merge, _pod

TOKEN = "worker-secret-0123456789abcdef"
USERS = {"tok-kim": student("kim"), "tok-park": student("park"),
         "tok-lee": teacher("lee")}  # fmt: skip
FAST = {"steps": 4, "batch_size": 2, "rank": 4}
ENDED = ("done", "stopped", "failed", "interrupted")
JOB_FILE = Z2JH / "optional" / "finetune-worker.yaml"
PATCH_FILE = Z2JH / "optional" / "finetune-worker-service-patch.yaml"


def rows() -> list[dict]:
    return [dict(r) for r in kit.datasets.load("movie_genres", lang="en")][:8]


def auth(token: str) -> dict:
    return {"Authorization": f"token {token}"}


@contextmanager
def workers_service(tmp_path, model, **config):
    """A running service with --finetune-runner workers; yields (client, Service)."""
    with serving(tmp_path, model, USERS, finetune_runner="workers",
                 worker_token=TOKEN, **config) as (url, svc):  # fmt: skip
        with httpx.Client(base_url=url, timeout=60) as client:
            yield client, svc


def submit(client, name: str, settings=None, token: str = "tok-kim") -> dict:
    body = {"rows": rows(), "name": name, "dataset": "movie_genres",
            "settings": settings or FAST}  # fmt: skip
    answer = client.post("api/finetune", headers=auth(token), json=body)
    assert answer.status_code == 202, answer.text
    return answer.json()["job"]


def job_of(client, job_id: str, token: str = "tok-kim") -> dict:
    return client.get(f"api/jobs/{job_id}", headers=auth(token)).json()["job"]


def claim(client, svc) -> dict:
    body = {"worker": "hand", "fingerprint": svc.model.fingerprint(), "on_gpu": False}
    answer = client.post("api/worker/claim", headers=auth(TOKEN), json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def report(client, job_id, lease, step, loss=1.0):
    body = {"lease": lease, "step": step, "loss": loss, "seconds": 0.1}
    return client.post(f"api/worker/jobs/{job_id}/progress", headers=auth(TOKEN),
                       json=body)  # fmt: skip


def hand_back(client, job_id, lease, data: bytes):
    return client.post(f"api/worker/jobs/{job_id}/adapter", params={"lease": lease},
                       content=data, headers=auth(TOKEN))  # fmt: skip


def chat(client, token: str, adapter: str):
    body = {"messages": [{"role": "user", "content": "A ghost story"}],
            "adapter": adapter, "max_new_tokens": 3}  # fmt: skip
    return client.post("api/chat", headers=auth(token), json=body)


def folder_bytes(svc, owner: str, name: str) -> dict[str, bytes]:
    folder = (svc.config.adapters_dir / owner / name).resolve()
    return {f.name: f.read_bytes() for f in folder.iterdir()}


# --- the flow end to end ------------------------------------------------------------


def test_a_worker_process_trains_the_job_into_the_students_store(
    tmp_path, real_model, fresh_quota
):
    """`kit finetune-worker --once` on SmolLM2: done, exact quota, kim's adapter only?"""
    with workers_service(tmp_path, real_model) as (client, svc):
        job = submit(client, "genres")
        time.sleep(0.5)
        assert job_of(client, job["id"])["state"] == "queued"  # the service trains none
        env = {**os.environ, "KIT_WORKER_TOKEN": TOKEN, "HF_HUB_OFFLINE": "1",
               "KIT_LANG": "en"}  # fmt: skip
        env.pop("KIT_SERVICE_URL", None)
        url = str(client.base_url)
        done = subprocess.run(
            [sys.executable, "-m", "kit.cli", "finetune-worker", "--service-url", url,
             "--once", "--name", "test-pod"],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        assert f"Job {job['id']}: done (adapter kim/genres)" in done.stdout
        ended = job_of(client, job["id"])
        assert (ended["state"], ended["adapter"], ended["step"]) == (
            "done",
            "kim/genres",
            4,
        )
        assert svc.quota("kim").usage()["finetune_steps"] == 4  # each step, once
        assert svc.quota("kim").usage()["gpu_seconds"] == 0  # a CPU worker
        # The same training as in-process (same seed, same model), stored the same way.
        local = kit.finetune(real_model, rows(), progress=False, plot=False, **FAST)
        assert ended["losses"] == pytest.approx(local.losses, rel=1e-4)
        stored = svc.store.open("kim", "kim/genres")
        assert stored.losses == ended["losses"]
        assert stored.manifest["dataset"] == "movie_genres"
        assert stored.manifest["base_fingerprint"] == real_model.fingerprint()
        assert chat(client, "tok-kim", "kim/genres").status_code == 200
        theirs = chat(client, "tok-park", "kim/genres")
        assert (
            theirs.status_code == 403
            and theirs.json()["error"] == "adapter_not_allowed"
        )
        # Nothing left to do: the next --once exits at once, and says so.
        empty = claim(client, svc)
        assert empty == {"job": None}


def test_quota_running_out_mid_way_stops_the_job_with_its_steps(tmp_path, tiny_model):
    """Another kernel spends the rest after step 2: stopped at 2, adapter kept?"""
    with workers_service(tmp_path, tiny_model) as (client, svc):
        job = submit(client, "short")
        worker = Worker(tiny_model, WorkerClient(str(client.base_url), TOKEN), "t")
        progress = worker.client.progress

        def spend_the_rest_after_step_2(job_id, lease, step, loss, seconds):
            if step == 2:  # before the service reserves step 3
                account = svc.quota("kim")
                with account.charge(finetune_steps=account.left("finetune_steps")):
                    pass
            return progress(job_id, lease, step, loss, seconds)

        worker.client.progress = spend_the_rest_after_step_2
        assert worker.run(once=True) == 0
        ended = job_of(client, job["id"])
        assert (ended["state"], ended["step"], len(ended["losses"])) == (
            "stopped",
            2,
            2,
        )
        assert ended["error"]["key"] == "quota_exceeded"
        assert ended["error"]["terms"] == ["kind"]
        info = client.get("api/adapters/kim/short", headers=auth("tok-kim")).json()
        assert (info["manifest"]["steps"], info["manifest"]["steps_asked"]) == (2, 4)
        assert info["losses"] == ended["losses"]
        account = svc.quota("kim")
        assert account.usage()["finetune_steps"] == account.limits()["finetune_steps"]
        assert account.left("finetune_steps") == 0  # nothing stays reserved


def test_a_job_that_no_longer_fits_fails_at_its_claim(tmp_path, tiny_model):
    """Quota spent after submit: the claim fails the job (quota_too_big), no lease?"""
    with workers_service(tmp_path, tiny_model) as (client, svc):
        job = submit(client, "late")
        account = svc.quota("kim")
        with account.charge(finetune_steps=account.left("finetune_steps") - 1):
            pass
        assert claim(client, svc) == {"job": None}
        ended = job_of(client, job["id"])
        assert ended["state"] == "failed" and ended["error"]["key"] == "quota_too_big"


def test_claims_go_round_robin_between_students(tmp_path, tiny_model):
    """kim queues two jobs, then park one: do workers get kim, park, kim?"""
    with workers_service(tmp_path, tiny_model) as (client, svc):
        made = [submit(client, "a"), submit(client, "b"),
                submit(client, "c", token="tok-park")]  # fmt: skip
        order = []
        for _ in made:
            got = claim(client, svc)
            order.append(got["job"]["id"])
            failed = client.post(f"api/worker/jobs/{got['job']['id']}/fail",
                                 headers=auth(TOKEN), json={"lease": got["lease"]})  # fmt: skip
            assert failed.json()["job"]["error"]["key"] == "finetune_failed"
        assert order == [made[0]["id"], made[2]["id"], made[1]["id"]]


# --- who may be a worker --------------------------------------------------------------


def test_only_the_worker_token_may_claim(tmp_path, tiny_model):
    """Wrong or student token: 403; none: 401; the worker token is no hub login?"""
    with workers_service(tmp_path, tiny_model) as (client, svc):
        submit(client, "x")
        body = {"fingerprint": svc.model.fingerprint()}
        for token in ("not-the-secret", "tok-kim", TOKEN + "x"):
            refused = client.post("api/worker/claim", headers=auth(token), json=body)
            assert refused.status_code == 403, token
            assert refused.json()["error"] == "worker_bad_token"
        bare = client.post("api/worker/claim", json=body)
        assert bare.status_code == 401
        assert client.get("api/info", headers=auth(TOKEN)).status_code == 401
        other = client.post("api/worker/claim", headers=auth(TOKEN),
                            json={"fingerprint": "0" * 24})  # fmt: skip
        assert (
            other.status_code == 422 and other.json()["error"] == "worker_wrong_model"
        )
        assert claim(client, svc)["job"]["name"] == "x"  # still queued for a real one
    with serving(tmp_path / "plain", tiny_model, USERS) as (url, _):  # in-process
        answer = httpx.post(url + "api/worker/claim", headers=auth(TOKEN), json=body)
        assert (
            answer.status_code == 404 and answer.json()["error"] == "worker_runner_off"
        )
    with pytest.raises(SettingError) as caught:
        ServiceConfig(dir=tmp_path, finetune_runner="workers", worker_token="short")
    assert caught.value.key == "worker_token_missing"


# --- what a worker hands back ---------------------------------------------------------


def test_a_corrupt_or_wrong_adapter_is_refused_and_the_old_one_stays(
    tmp_path, tiny_model
):
    """Damaged zip, or not the steps charged: 422, kim/genres untouched, job fails?"""
    with workers_service(tmp_path, tiny_model) as (client, svc):
        first = submit(client, "genres", {**FAST, "steps": 2})
        worker = Worker(tiny_model, WorkerClient(str(client.base_url), TOKEN), "t")
        assert worker.run(once=True) == 0
        assert job_of(client, first["id"])["state"] == "done"
        before = folder_bytes(svc, "kim", "genres")
        again = submit(client, "genres", {**FAST, "steps": 2})
        got = claim(client, svc)
        assert got["job"]["id"] == again["id"]
        lease = got["lease"]
        assert report(client, again["id"], lease, 1, 2.0).json()["continue"] is True
        assert report(client, again["id"], lease, 3).status_code == 422  # out of order
        assert report(client, again["id"], lease, 2, 1.5).json()["continue"] is False
        half = io.BytesIO()
        with zipfile.ZipFile(half, "w") as zipped:
            for name, data in before.items():
                zipped.writestr(name, data)
        whole = half.getvalue()
        cases = [(b"not a zip at all", "adapter_zip_damaged"),
                 (whole[: len(whole) // 2], "adapter_zip_damaged"),
                 (whole, "worker_adapter_mismatch")]  # another job's losses  # fmt: skip
        for data, key in cases:
            refused = hand_back(client, again["id"], lease, data)
            assert (refused.status_code, refused.json()["error"]) == (422, key)
            assert folder_bytes(svc, "kim", "genres") == before
        assert job_of(client, again["id"])["state"] == "running"  # may still hand back
        failed = client.post(f"api/worker/jobs/{again['id']}/fail", headers=auth(TOKEN),
                             json={"lease": lease, "detail": "gave up"})  # fmt: skip
        assert failed.json()["job"]["state"] == "failed"
        assert folder_bytes(svc, "kim", "genres") == before
        assert svc.quota("kim").usage()["finetune_steps"] == 4  # 2 + 2 reported


def test_a_silent_worker_loses_its_job_as_interrupted(tmp_path, tiny_model):
    """Lease over: interrupted, charged only the step done, the late worker told 409?"""
    with workers_service(tmp_path, tiny_model, worker_lease=1.0) as (client, svc):
        job = submit(client, "slow")
        got = claim(client, svc)
        assert got["lease_seconds"] == 1.0
        assert report(client, job["id"], got["lease"], 1).json()["continue"] is True
        deadline = time.monotonic() + 15
        while job_of(client, job["id"])["state"] == "running":
            assert time.monotonic() < deadline, "the lease never ran out"
            time.sleep(0.1)
        ended = job_of(client, job["id"])
        assert ended["state"] == "interrupted" and ended["step"] == 1
        assert ended["error"]["key"] == "job_worker_lost"
        assert "start the fine-tune again" in kit.messages.t(
            "job_worker_lost", "en", **ended["error"]["fields"]
        )
        usage = svc.quota("kim").usage()
        assert usage["finetune_steps"] == 1  # step 2's reservation was given back
        late = report(client, job["id"], got["lease"], 2)
        assert late.status_code == 409 and late.json()["error"] == "worker_lease_lost"
        assert hand_back(client, job["id"], got["lease"], b"x").status_code == 409
        assert not (svc.config.adapters_dir / "kim" / "slow").exists()
        assert claim(client, svc) == {"job": None}  # not queued again: no double charge


# --- the Kubernetes Job --------------------------------------------------------------


def _job() -> dict:
    (doc,) = [d for d in yaml.safe_load_all(JOB_FILE.read_text("utf-8")) if d]
    return doc


def test_the_job_runs_the_real_worker_command_against_the_service():
    """Does the Job's command parse as `kit finetune-worker`, aimed at Service baeum?"""
    from urllib.parse import urlparse

    from kit.cli import parser

    (container,) = _job()["spec"]["template"]["spec"]["containers"]
    args = parser().parse_args(container["command"][1:] + container["args"])
    assert args.func is finetune_worker.cmd_worker
    assert args.idle_exit == 600 and not args.once
    url = urlparse(args.service_url)
    service = OBJECTS[("Service", url.hostname)]
    assert url.port in [p["port"] for p in service["spec"]["ports"]]
    deployment = _pod("Deployment", url.hostname)["spec"]["containers"][0]
    assert url.path == _env(deployment)["JUPYTERHUB_SERVICE_PREFIX"]["value"]
    assert container["image"] == deployment["image"]  # the same kit and model
    assert container["envFrom"] == deployment["envFrom"]  # the same KIT_MODEL


def test_the_job_asks_for_one_gpu_on_the_services_node_pool():
    """One nvidia.com/gpu, the service's nodeSelector and tolerations, no restarts loop?"""
    job = _job()
    pod = job["spec"]["template"]["spec"]
    service = _pod("Deployment", "baeum")["spec"]
    (container,) = pod["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert pod["nodeSelector"] == service["nodeSelector"]
    assert pod["tolerations"] == service["tolerations"]
    assert pod["restartPolicy"] == "OnFailure" and job["spec"]["backoffLimit"] >= 1
    assert job["spec"]["suspend"] is False  # without Kueue: starts at once


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_the_job_is_valid_with_and_without_the_kueue_label(version):
    """Valid Kubernetes as shipped, and with the documented Kueue label uncommented?"""
    text = JOB_FILE.read_text("utf-8")
    (line,) = re.findall(r"^\s*# (kueue\.x-k8s\.io/queue-name: [\w-]+)$", text, re.M)
    key, value = line.split(": ")
    job = _job()
    assert key not in job["metadata"]["labels"]  # optional: off unless asked for
    kubernetes_validate.validate(job, version, strict=True)
    job["metadata"]["labels"][key] = value
    kubernetes_validate.validate(job, version, strict=True)


def test_service_and_worker_share_one_secret_and_the_patch_switches_the_runner():
    """Same Secret and key on both sides; the patched service runs with workers?"""
    patch = yaml.safe_load(PATCH_FILE.read_text("utf-8"))
    service = _merge(json.loads(json.dumps(OBJECTS[("Deployment", "baeum")])), patch)
    for version in K8S_VERSIONS:
        kubernetes_validate.validate(service, version, strict=True)
    (container,) = service["spec"]["template"]["spec"]["containers"]
    theirs = _env(container)
    (worker,) = _job()["spec"]["template"]["spec"]["containers"]
    ours = _env(worker)
    assert set(ours) == {finetune_worker.TOKEN_ENV}
    ref = ours[finetune_worker.TOKEN_ENV]["valueFrom"]["secretKeyRef"]
    assert theirs["KIT_WORKER_TOKEN"]["valueFrom"]["secretKeyRef"] == ref
    made = f"create secret generic {ref['name']} --from-literal={ref['key']}="
    assert made in JOB_FILE.read_text("utf-8")
    for guide in ("hub.md", "hub.ko.md"):
        assert made in (ROOT / "docs" / guide).read_text("utf-8"), guide
    env = dict(OBJECTS[("ConfigMap", "baeum-config")]["data"])
    env.update({k: v.get("value", TOKEN) for k, v in theirs.items()})
    config = ServiceConfig.from_env(env=env)
    assert (config.finetune_runner, config.worker_token) == ("workers", TOKEN)
    assert config.worker_lease == float(theirs["KIT_WORKER_LEASE"]["value"])
    assert ServiceConfig.from_env(env={}).finetune_runner == "in-process"  # default
