"""Hub mode streams: the service's server-sent events, on both in-process engines.

What users rely on: the pieces join to exactly the reply the same call gives whole,
every student in a shared batch gets their own text, the ledger charges what the last
event says, a student who leaves stops their row (charged as made), and errors read
as the same friendly message as without streaming.
"""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

import kit
from kit import messages
from kit.errors import QuotaExceeded
from kit.hub import http as remote_http
from kit.hub.events import events
from kit.loading import load_local
from tests.hubfake import serving, student
from tests.test_service import hold_generation

pytestmark = pytest.mark.real_model

USERS = {f"tok-{name}": student(name) for name in
         ("ahn", "baek", "cho", "dong", "eom", "gu", "han")}  # fmt: skip
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def smol_torch():
    """SmolLM2 on transformers: rows of a batch decode side by side in one generate."""
    return load_local("smollm2-135m", engine="transformers")


@pytest.fixture(scope="module")
def torch_hub(tmp_path_factory, smol_torch):
    with serving(tmp_path_factory.mktemp("torch"), smol_torch, USERS) as running:
        yield running


@pytest.fixture(scope="module")
def llama_hub(tmp_path_factory, real_model):
    """The bundled model as kit.load_model() gives it: llama.cpp, rows one by one."""
    assert real_model.engine.label == "llama.cpp"
    with serving(tmp_path_factory.mktemp("llama"), real_model, USERS) as running:
        yield running


def ask(url: str, path: str, token: str, body: dict, *, lang="en", leave_after=None):
    """Stream a request; return (status, content type, [(event, data)...])."""
    headers = {"Authorization": f"token {token}", "Accept-Language": lang}
    seen = []
    with httpx.Client(base_url=url, timeout=120) as client:
        with client.stream("POST", path, headers=headers,
                           json={**body, "stream": True}) as answer:  # fmt: skip
            for name, data in events(answer.iter_lines()):
                seen.append((name, json.loads(data)))
                if leave_after and len(seen) >= leave_after:
                    break  # closing the response closes the connection
            return answer.status_code, answer.headers["content-type"], seen


def whole(url: str, path: str, token: str, body: dict) -> dict:
    headers = {"Authorization": f"token {token}"}
    answer = httpx.post(url + path, headers=headers, json=body, timeout=120)
    assert answer.status_code == 200, answer.text
    return answer.json()


def pieces(seen) -> list[str]:
    return [data["text"] for name, data in seen if name == "token"]


def settled(svc, name: str, seconds: float = 30) -> dict:
    """Return `name`'s ledger balance today once nothing is reserved any more."""
    deadline = time.monotonic() + seconds
    while True:
        balance = svc.ledger.balance(name, svc.quota(name).day())
        if balance["reserved"]["tokens"] == 0 or time.monotonic() > deadline:
            return balance
        time.sleep(0.05)


@pytest.mark.parametrize("engine", ["transformers", "llama.cpp"])
def test_pieces_join_to_exactly_the_unstreamed_greedy_reply(engine, request):
    """Are chat and generate streamed in pieces that join to the whole call's reply?"""
    url, svc = request.getfixturevalue("torch_hub" if engine == "transformers"
                                       else "llama_hub")  # fmt: skip
    for path, body in [
        ("api/chat", {"messages": QUESTION, "max_new_tokens": 20}),
        ("api/generate", {"prompt": "Once upon a time", "max_new_tokens": 12}),
    ]:
        status, kind, seen = ask(url, path, "tok-ahn", body)
        assert status == 200 and kind.startswith("text/event-stream")
        names = [name for name, _ in seen]
        assert names[-1] == "done" and set(names[:-1]) == {"token"}
        assert len(pieces(seen)) >= 3  # it really came in pieces
        final, alone = seen[-1][1], whole(url, path, "tok-ahn", body)
        assert "".join(pieces(seen)) == final["text"] == alone["text"]
        assert {k: v for k, v in final.items() if k != "seconds"} == {
            k: v for k, v in alone.items() if k != "seconds"
        }


def test_two_students_streaming_at_once_share_a_batch_and_get_their_own_text(
    torch_hub,
):
    """Two streams in one generate call: does each student get exactly their reply?"""
    url, svc = torch_hub
    asks = {"tok-baek": "Name three colours.", "tok-cho": "What is 2+2?"}
    bodies = {t: {"messages": [{"role": "user", "content": q}], "max_new_tokens": 16}
              for t, q in asks.items()}  # fmt: skip
    before = svc.batcher.stats()
    results: dict = {}
    threads = [threading.Thread(target=lambda t=t: results.update(
        {t: ask(url, "api/chat", t, bodies[t])})) for t in asks]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    after = svc.batcher.stats()
    assert after["batches"] - before["batches"] == 1  # one batch of both rows
    assert after["rows"] - before["rows"] == 2
    texts = {t: "".join(pieces(results[t][2])) for t in asks}
    assert texts["tok-baek"] != texts["tok-cho"]
    for token in asks:
        assert texts[token] == results[token][2][-1][1]["text"]
        assert texts[token] == whole(url, "api/chat", token, bodies[token])["text"]


def test_the_last_event_says_what_the_ledger_charged(torch_hub):
    """Is the done event's usage exactly what the ledger charged for the request?"""
    url, svc = torch_hub
    before = settled(svc, "dong")["used"]
    _, _, seen = ask(url, "api/chat", "tok-dong",
                     {"messages": QUESTION, "max_new_tokens": 10})  # fmt: skip
    final = seen[-1][1]
    after = settled(svc, "dong")
    assert after["used"]["tokens"] - before["tokens"] == final["tokens"] > 0
    assert after["used"]["generations"] - before["generations"] == 1
    assert after["reserved"]["tokens"] == 0 and svc.ledger.audit() == []


def test_leaving_mid_stream_stops_that_row_only_and_charges_what_was_made(torch_hub):
    """A student closes the stream: their row stops, charged as made; a neighbour's
    row in the same batch runs on to its full, unchanged answer."""
    url, svc = torch_hub
    body = {"prompt": "1, 2, 3, 4, 5, 6,", "max_new_tokens": 60}  # counts on and on
    before = svc.batcher.stats()
    used = settled(svc, "eom")["used"]["tokens"]
    neighbour: dict = {}
    other = threading.Thread(target=lambda: neighbour.update(
        whole(url, "api/generate", "tok-gu", body)))  # fmt: skip
    other.start()
    _, _, seen = ask(url, "api/generate", "tok-eom", body, leave_after=2)
    other.join(120)
    assert svc.batcher.stats()["batches"] - before["batches"] == 1
    assert neighbour["tokens"] == 60  # the prompt really goes on for 60 tokens
    assert neighbour["text"].startswith("".join(pieces(seen)))
    charged = settled(svc, "eom")["used"]["tokens"] - used
    assert 2 <= charged < 30  # stopped soon after leaving, not at 60
    assert svc.ledger.audit() == []
    assert whole(url, "api/chat", "tok-eom", {"messages": QUESTION,
                                             "max_new_tokens": 2})["tokens"]  # fmt: skip


def test_leaving_while_queued_drops_the_row_and_charges_nothing(torch_hub, monkeypatch):
    """A student who gives up before their row's turn: never generated, never charged."""
    url, svc = torch_hub
    running, release = hold_generation(monkeypatch, svc.model)
    body = {"prompt": "Hi", "max_new_tokens": 2}
    other = threading.Thread(target=lambda: whole(url, "api/generate", "tok-gu", body))
    other.start()
    assert running.wait(30)  # the neighbour's batch holds the model
    before, rows = settled(svc, "cho")["used"], svc.batcher.stats()["rows"]
    with pytest.raises(httpx.ReadTimeout):  # nothing comes while queued: give up
        httpx.post(url + "api/generate", headers={"Authorization": "token tok-cho"},
                   json={**body, "stream": True}, timeout=1.0)  # fmt: skip
    assert svc.batcher.stats()["queued"] == 1
    release.set()
    other.join(60)
    assert settled(svc, "cho")["used"] == before
    stats = svc.batcher.stats()  # only the neighbour's row was generated
    assert (stats["rows"], stats["queued"]) == (rows + 1, 0)


def test_errors_arrive_as_error_events_in_korean_and_english(torch_hub, monkeypatch):
    """Quota, an unknown adapter, and an engine failing mid-stream: error events with
    the unstreamed call's status, key and both messages."""
    url, svc = torch_hub
    svc.set_limits("han", {"generations": 0})
    status, kind, seen = ask(url, "api/chat", "tok-han", {"messages": QUESTION},
                             lang="ko-KR,ko;q=0.9")  # fmt: skip
    assert status == 200 and kind.startswith("text/event-stream")
    [(name, error)] = seen
    assert name == "error" and error["status"] == 429
    assert error["error"] == "quota_exceeded" and error["terms"] == ["kind"]
    assert (
        "생성 횟수" in error["message"]["ko"]
        and error["text"] == error["message"]["ko"]
    )
    assert "generations" in error["message"]["en"]
    assert svc.quota("han").usage()["generations"] == 0

    _, _, [(name, missing)] = ask(url, "api/chat", "tok-ahn",
                                  {"messages": QUESTION, "adapter": "ahn/none"})  # fmt: skip
    assert (name, missing["status"]) == ("error", 404)

    from kit.errors import ServiceUnavailable

    def failing(rows, settings, stream=False, abort=None):
        stream.put(rows[0][None])  # the prompt, then one word, then the engine dies
        stream.put(svc.model.tokenizer(" Hello", return_tensors="pt").input_ids[0])
        time.sleep(0.3)
        raise ServiceUnavailable("engine_unavailable", url="http://127.0.0.1:9")

    monkeypatch.setattr(svc.model, "_generate_batch", failing)
    _, _, seen = ask(url, "api/chat", "tok-ahn", {"messages": QUESTION})
    assert [name for name, _ in seen] == ["token", "error"]
    assert seen[0][1]["text"] == "Hello" and seen[1][1]["status"] == 503
    assert seen[1][1]["error"] == "engine_unavailable" and seen[1][1]["message"]["ko"]


def test_the_kernel_shows_pieces_as_local_mode_and_returns_the_same_reply(
    torch_hub, monkeypatch, capsys, fresh_quota
):
    """stream=True prints pieces then a newline; a callback gets each piece; a quota
    error is the same QuotaExceeded as without streaming."""
    url, svc = torch_hub
    monkeypatch.setenv("KIT_SERVICE_URL", url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "tok-ahn")
    try:
        model = kit.load_model()
        alone = model.chat(QUESTION, max_new_tokens=12)  # not a notebook: whole
        got: list[str] = []
        piecewise = model.chat(QUESTION, max_new_tokens=12, stream=got.append)
        assert len(got) >= 2 and "".join(got) == piecewise == alone
        assert piecewise.tokens == alone.tokens and not piecewise.streamed
        capsys.readouterr()
        shown = model.generate("Once upon a time", max_new_tokens=8, stream=True)
        out = capsys.readouterr().out
        assert out == str(shown) + "\n" and shown.streamed
        assert shown == model.generate("Once upon a time", max_new_tokens=8)
        monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "tok-han")
        svc.set_limits("han", {"generations": 0})
        messages.set_language("ko")
        with pytest.raises(QuotaExceeded, match="생성 횟수"):
            kit.load_model().chat("Hi", stream=True)
    finally:
        messages.set_language(None)
        remote_http.close_all()
