"""The service on a real vLLM CPU server (managed: the service starts it from .venv/vllm).

One server per module (a start takes 60-200 s on 2 cores): the in-process service
started it, and a real JupyterHub's service reaches the same one by --engine-url. What users rely on: the
same greedy text and next-token probabilities as the training engine, each student's
own adapter, right answers when base and adapter requests share vLLM's batches,
exact quotas, and a clear 503 (then recovery) when the server dies mid-request.
"""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import kit
from kit import quota
from kit.hub.events import events
from kit.loading import load_local
from tests.hubfake import serving, student
from tests.test_hub_e2e import STUDENT_WORK, STUDENTS, class_usage, run_as, running_hub

ROOT = Path(__file__).resolve().parents[1]
VLLM_PYTHON = os.environ.get("KIT_VLLM_PYTHON") or str(ROOT / ".venv/vllm/bin/python")
USERS = {"tok-a": student("ahn"), "tok-b": student("baek")}
QUESTIONS = ["Name one colour.", "What is 2+2?", "Say hello in French.",
             "Write a haiku about rain."]  # fmt: skip

pytestmark = pytest.mark.real_model


def auth(token: str) -> dict:
    return {"Authorization": f"token {token}"}


def chat(client, token: str, text: str, **body) -> httpx.Response:
    messages = [{"role": "user", "content": text}]
    return client.post("api/chat", headers=auth(token),
                       json={"messages": messages, "max_new_tokens": 24, **body})  # fmt: skip


@pytest.fixture(scope="module")
def local():
    """The bundled model in this process, on transformers fp32 (the training engine)."""
    return load_local("smollm2-135m", engine="transformers")


@pytest.fixture(scope="module")
def adapter(local):
    """A small adapter that answers differently from the base (trained here, once)."""
    data = kit.datasets.load("finance_support", lang="en")
    with quota.exempt():
        return kit.finetune(local, data, steps=6, batch_size=4, learning_rate=1e-3,
                            progress=False, seed=0)  # fmt: skip


@pytest.fixture(scope="module")
def vllm(tmp_path_factory, local, adapter):
    """A service that started its own vLLM server; yields (client, Service)."""
    if not Path(VLLM_PYTHON).exists():
        pytest.fail(f"{VLLM_PYTHON} is missing: `make install-vllm` puts vLLM there")
    folder = tmp_path_factory.mktemp("vllm")
    with serving(folder, local, USERS, engine="vllm", vllm_python=VLLM_PYTHON) as (
        url,
        service,
    ):
        service.store.save("ahn", "mine", adapter)
        with httpx.Client(base_url=url, timeout=300) as client:
            yield client, service


def test_greedy_text_and_probabilities_match_the_training_engine(vllm, local):
    client, service = vllm
    assert client.get("api/info", headers=auth("tok-a")).json()["engine"] == "vLLM"
    for question in QUESTIONS:
        served = chat(client, "tok-a", question)
        assert served.status_code == 200, served.text
        assert served.json()["text"] == str(local.chat(question, max_new_tokens=24))
    text = "The capital of France is"
    exact = local.next_token_probs(text, top=5)
    served = client.post("api/next_token_probs", headers=auth("tok-a"),
                         json={"text": text, "top": 5}).json()  # fmt: skip
    assert served["ids"] == exact.ids
    assert max(abs(a - b) for a, b in zip(served["probs"], exact.probs)) < 1e-3
    # A token far down the list, asked by name, is exact too (not the top-k's rest).
    rare = local.next_token_probs(text, tokens=[" banana"])
    asked = client.post("api/next_token_probs", headers=auth("tok-a"),
                        json={"text": text, "tokens": [" banana"]}).json()  # fmt: skip
    assert asked["ids"] == rare.ids
    assert asked["probs"][0] == pytest.approx(rare.probs[0], rel=0.02, abs=1e-7)


def test_own_adapter_only_and_mixed_batches_give_each_the_right_answer(
    vllm, local, adapter
):
    client, service = vllm
    question = "My card was stolen yesterday, what should I do?"
    base_alone = chat(client, "tok-b", question).json()["text"]
    mine_alone = chat(client, "tok-a", question, adapter="ahn/mine").json()["text"]
    assert base_alone == str(local.chat(question, max_new_tokens=24))
    assert mine_alone == str(adapter.chat(question, max_new_tokens=24))
    assert mine_alone != base_alone  # the adapter is really applied
    refused = chat(client, "tok-b", question, adapter="ahn/mine")
    assert refused.status_code == 403 and refused.json()["message"]["ko"]

    # Base and adapter requests at once: vLLM batches them together. Each student
    # must still get their own model's answer (vLLM 0.32's CPU LoRA bug gives a
    # base row the adapter's answer; base traffic runs on a zero adapter).
    def ask(i: int) -> tuple[str, str]:
        if i % 2:
            return "mine", chat(client, "tok-a", question, adapter="ahn/mine").json()
        return "base", chat(client, "tok-b", question).json()

    before = service.batcher.stats()["batches"]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(8)))
    assert service.batcher.stats()["batches"] - before >= 2
    for which, answer in answers:
        assert answer["text"] == (mine_alone if which == "mine" else base_alone)


def test_quotas_are_exact_on_vllm(vllm):
    client, service = vllm
    day = service.quota("baek").day()
    before = service.ledger.usage("baek", day)
    replies = [chat(client, "tok-b", f"Count to {n}.", max_new_tokens=8).json()
               for n in (2, 3, 4)]  # fmt: skip
    after = service.ledger.usage("baek", day)
    assert after["generations"] == before["generations"] + 3
    assert after["tokens"] == before["tokens"] + sum(r["tokens"] for r in replies)
    assert service.ledger.audit() == []


def test_a_streamed_chat_equals_the_unstreamed_one(vllm):
    """Streamed from vLLM's own stream through the service: the same reply, in pieces."""
    client, _ = vllm
    body = {"messages": [{"role": "user", "content": QUESTIONS[3]}],
            "max_new_tokens": 24}  # fmt: skip
    alone = client.post("api/chat", headers=auth("tok-b"), json=body).json()
    with client.stream("POST", "api/chat", headers=auth("tok-b"),
                       json={**body, "stream": True}) as answer:  # fmt: skip
        seen = [(name, json.loads(data)) for name, data in events(answer.iter_lines())]
    pieces = [data["text"] for name, data in seen if name == "token"]
    assert seen[-1][0] == "done" and len(pieces) >= 3, seen
    final = seen[-1][1]
    assert "".join(pieces) == final["text"] == alone["text"]
    assert (final["tokens"], final["prompt_tokens"]) == (alone["tokens"],
                                                          alone["prompt_tokens"])  # fmt: skip


@pytest.fixture(scope="module")
def hub(tmp_path_factory, vllm):
    """A real JupyterHub whose Baeum service uses this module's vLLM (--engine-url)."""
    _, service = vllm
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KIT_SERVICE_ENGINE", "vllm")
        patch.setenv("KIT_VLLM_URL", service.vllm.managed.server.url)
        with running_hub(tmp_path_factory.mktemp("hub")) as running:
            yield running


def test_through_a_real_hub_students_chat_and_fine_tune_on_vllm(hub):
    for name in STUDENTS:
        done = run_as(hub, name, STUDENT_WORK)
        assert "error" not in done, done
        assert done["reply"] and done["answer"] and done["steps"] == 2
    info = run_as(hub, "alice", "print(json.dumps(kit.load_model().info))")
    assert info["engine"] == "vLLM", info
    refused = run_as(hub, "bob", 'kit.load_model(adapter="alice/mine")\nprint("{}")')
    assert refused["error"] == "NotAllowed", refused
    before = class_usage(hub)
    done = run_as(hub, "alice", """
model = kit.load_model()
replies = [model.chat(f"Count to {n}.", max_new_tokens=6) for n in (2, 3, 4)]
print(json.dumps({"tokens": sum(r.tokens for r in replies)}))
""")  # fmt: skip
    after = class_usage(hub)
    assert after["alice"]["generations"] == before["alice"]["generations"] + 3
    assert after["alice"]["tokens"] == before["alice"]["tokens"] + done["tokens"]
    assert after["bob"] == before["bob"]


def test_the_server_dying_mid_request_is_a_clear_503_then_it_comes_back(vllm):
    client, service = vllm
    managed = service.vllm.managed
    day = service.quota("ahn").day()
    before = service.ledger.usage("ahn", day)
    answers: list[httpx.Response] = []
    asking = threading.Thread(target=lambda: answers.append(client.post(
        "api/generate", headers={**auth("tok-a"), "Accept-Language": "ko"},
        json={"prompt": "Once upon a time", "max_new_tokens": 1500})))  # fmt: skip
    asking.start()
    deadline = time.monotonic() + 60
    while service.ledger.balance("ahn", day)["reserved"]["tokens"] == 0:
        assert time.monotonic() < deadline, "the long request never reached the ledger"
        time.sleep(0.1)
    time.sleep(1)
    managed.process.kill()
    asking.join(60)
    assert not asking.is_alive(), "the request hung after the server died"
    assert answers[0].status_code == 503, answers[0].text
    assert "모델 서버" in answers[0].json()["message"]["ko"]
    after = service.ledger.balance("ahn", day)
    assert after["reserved"]["tokens"] == 0  # nothing left held
    assert after["used"]["tokens"] - before["tokens"] <= 1500
    assert service.ledger.audit() == []

    managed.wait_ready()  # the watcher restarts it
    assert managed.restarts == 1
    again = chat(client, "tok-a", "Name one colour.")
    assert again.status_code == 200 and again.json()["text"]
    # The adapter is registered again with the new server, on first use.
    mine = chat(client, "tok-a", "Name one colour.", adapter="ahn/mine")
    assert mine.status_code == 200, mine.text
