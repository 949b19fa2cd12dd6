"""Hub mode in the kernel: RemoteModel answers like the local Model, errors stay friendly."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest

import kit
from kit import messages
from kit.adapters import MANIFEST, read_manifest
from kit.errors import (
    KitError,
    NotAllowed,
    NotFound,
    QuotaExceeded,
    ServiceUnavailable,
    SettingError,
)
from kit.hub import http as remote_http
from kit.hub.client import RemoteModel
from tests.hubfake import running_service, student, teacher

BASE = "http://baeum.test/services/baeum/"
ROWS = [
    {"text": f"{word} story number {i}", "label": label}
    for i in range(4)
    for word, label in (("ghost", "horror"), ("kiss", "romance"), ("robot", "scifi"))
]
INFO = {"name": "smollm2-135m", "fingerprint": "f" * 24, "context_length": 8192,
        "parameters": 134515008, "device": "cpu", "dtype": "float32",
        "version": "0.1.0"}  # fmt: skip


@pytest.fixture(autouse=True)
def english():
    messages.set_language("en")
    yield
    messages.set_language(None)
    remote_http.close_all()


def fake_service(monkeypatch, answer, *, url: str = BASE) -> list[httpx.Request]:
    """Point the kit at a fake service: answer(request) -> httpx.Response."""
    monkeypatch.setenv("KIT_SERVICE_URL", url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "secret-token")
    seen: list[httpx.Request] = []
    remote_http.close_all()  # a fresh client for this fake

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("api/info"):
            return httpx.Response(200, json=INFO)
        return answer(request)

    remote_http.client(url, "secret-token", transport=httpx.MockTransport(handler))
    return seen


def error(status: int, key: str, fields: dict, terms=()):
    body = {"error": key, "fields": fields, "terms": list(terms),
            "message": {"en": "en words", "ko": "한국어"}}  # fmt: skip
    return lambda request: httpx.Response(status, json=body)


def test_load_model_returns_a_remote_model_that_sends_the_hub_token(monkeypatch):
    """With KIT_SERVICE_URL set, is load_model a RemoteModel that weighs nothing here?"""
    seen = fake_service(monkeypatch, lambda r: httpx.Response(500))
    model = kit.load_model()
    assert isinstance(model, RemoteModel) and isinstance(model, kit.Model)
    assert model.name == "smollm2-135m" and model.context_length == 8192
    assert model.fingerprint() == "f" * 24
    assert "via Baeum service" in repr(model) and "135M params" in repr(model)
    assert seen[0].headers["Authorization"] == "token secret-token"
    assert seen[0].headers["Accept-Language"] == "en"


def test_empty_service_url_means_local_mode(monkeypatch, tiny_folder):
    """Does KIT_SERVICE_URL="" keep the model in this kernel?"""
    monkeypatch.setenv("KIT_SERVICE_URL", "")
    assert not isinstance(kit.load_model(str(tiny_folder)), RemoteModel)


def test_another_model_name_says_which_one_the_service_serves(monkeypatch):
    """Does asking for another model name the served one and how a teacher changes it?"""
    fake_service(monkeypatch, lambda r: httpx.Response(500))
    assert isinstance(kit.load_model("SmolLM2"), RemoteModel)  # an alias of the same
    with pytest.raises(KitError) as caught:
        kit.load_model("qwen2.5-0.5b")
    assert caught.value.key == "remote_other_model"
    assert "'smollm2-135m'" in str(caught.value) and "kit serve --model" in str(
        caught.value
    )


def test_weights_are_not_in_the_kernel(monkeypatch):
    """Do .hf and .tokenizer explain hub mode (and hasattr stay False, not crash)?"""
    fake_service(monkeypatch, lambda r: httpx.Response(500))
    model = kit.load_model()
    with pytest.raises(KitError, match="weights live in the Baeum service"):
        model.hf  # noqa: B018
    assert not hasattr(model, "tokenizer")
    messages.set_language("ko")
    with pytest.raises(KitError, match="가중치"):
        model.tokenizer  # noqa: B018


def test_bad_settings_fail_in_the_kernel_with_the_local_messages(monkeypatch):
    """Are mistakes caught before any request, worded exactly as in local mode?"""
    seen = fake_service(monkeypatch, lambda r: pytest.fail("no request expected"))
    model = kit.load_model()
    calls = [
        lambda: model.chat(""),
        lambda: model.chat("hi", temperature=9),
        lambda: model.chat([{"role": "robot", "content": "x"}]),
        lambda: model.generate(42),
        lambda: model.chat_batch("not a list"),
        lambda: model.next_token_probs("x", top=0),
        lambda: model.next_token_probs("x", tokens="Seoul"),
        lambda: model.tokenize(3),
        lambda: model.decode(["a"]),
    ]
    for bad in calls:
        with pytest.raises(SettingError):
            bad()
    assert len(seen) == 1  # api/info only
    with pytest.raises(SettingError) as remote:
        model.chat("hi", max_new_tokens=0)
    assert "max_new_tokens must be between 1 and 4096" in str(remote.value)


@pytest.mark.parametrize(
    ("status", "key", "fields", "terms", "kind"),
    [
        (429, "quota_exceeded",
         {"kind": "kind_tokens", "used": "50,000", "limit": "50,000",
          "reset": "2026-01-02 00:00 (Asia/Seoul)"}, ["kind"], QuotaExceeded),
        (422, "bad_number", {"name": "top_k", "low": 0, "high": 1000, "value": 5000,
                             "example": 50}, [], SettingError),
        (413, "prompt_too_long", {"tokens": 9000, "limit": 8191}, [], SettingError),
        (404, "remote_job_failed", {"job": "abc"}, [], NotFound),
        (403, "remote_forbidden", {"url": "x"}, [], NotAllowed),
        (503, "remote_unreachable", {"url": "x", "problem": "stopping"}, [],
         ServiceUnavailable),
        (500, "remote_http", {"url": "x", "status": 500}, [], KitError),
    ],
)  # fmt: skip
def test_service_errors_become_the_same_kit_error(
    monkeypatch, status, key, fields, terms, kind
):
    """Is the JSON error rebuilt as the same KitError class, key and fields?"""
    fake_service(monkeypatch, error(status, key, fields, terms))
    model = kit.load_model()
    with pytest.raises(kind) as caught:
        model.chat("hi")
    assert caught.value.key == key
    assert caught.value.in_language("en") == messages.t(
        key,
        "en",
        **{k: messages.Term(v) if k in terms else v for k, v in fields.items()},
    )


def test_quota_exceeded_reads_in_korean_and_english(monkeypatch):
    """Does a 429 read as the local quota message in both languages (terms rebuilt)?"""
    fields = {"kind": "kind_tokens", "used": "50,000", "limit": "50,000",
              "reset": "2026-01-02 00:00 (Asia/Seoul)"}  # fmt: skip
    fake_service(monkeypatch, error(429, "quota_exceeded", fields, ["kind"]))
    with pytest.raises(QuotaExceeded) as caught:
        kit.load_model().chat("hi")
    assert "generated tokens" in caught.value.in_language("en")
    assert "생성 토큰" in caught.value.in_language("ko")
    assert "kind_tokens" not in caught.value.in_language("ko")


def test_unknown_or_broken_errors_still_read_well(monkeypatch):
    """A key this kit lacks shows the service's words; HTML from the proxy is 503-like."""
    fake_service(monkeypatch, error(400, "from_a_newer_service", {"x": 1}))
    model = kit.load_model()
    with pytest.raises(KitError, match="The Baeum service says: en words"):
        model.chat("hi")
    fake_service(monkeypatch, lambda r: httpx.Response(502, text="<html>Bad</html>"))
    with pytest.raises(ServiceUnavailable, match="try again in a minute"):
        model.chat("hi")
    fake_service(monkeypatch, lambda r: httpx.Response(401, json={"error": "x"}))
    with pytest.raises(KitError) as caught:
        model.chat("hi")
    assert caught.value.key == "remote_bad_token"


def test_no_hub_token_is_explained(monkeypatch):
    """Without JUPYTERHUB_API_TOKEN, does the student learn to restart their server?"""
    monkeypatch.setenv("KIT_SERVICE_URL", BASE)
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    with pytest.raises(KitError) as caught:
        kit.load_model()
    assert caught.value.key == "remote_no_token"
    assert "Hub Control Panel" in str(caught.value)


def _run(work, seconds: float):
    """Run work() in a thread; fail if it has not finished within `seconds`."""
    box: dict = {}

    def target():
        try:
            box["value"] = work()
        except BaseException as problem:  # noqa: BLE001  (handed to the test)
            box["error"] = problem

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"no answer within {seconds} s"
    return box


def test_dead_service_is_unavailable_quickly(monkeypatch):
    """Connection refused: ServiceUnavailable naming the URL, within a few seconds."""
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/services/baeum/"
    monkeypatch.setenv("KIT_SERVICE_URL", url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "secret-token")
    box = _run(kit.load_model, seconds=8)
    assert isinstance(box.get("error"), ServiceUnavailable), box
    assert url in str(box["error"]) and "ask your teacher" in str(box["error"])


def test_silent_service_times_out_instead_of_hanging(monkeypatch):
    """A service that accepts but never answers: a timeout message, not a hang."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)  # the kernel completes connects; nobody ever answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/services/baeum/"
        monkeypatch.setenv("KIT_SERVICE_URL", url)
        monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "secret-token")
        monkeypatch.setenv("KIT_SERVICE_TIMEOUT", "0.5")
        box = _run(kit.load_model, seconds=8)
    assert isinstance(box.get("error"), ServiceUnavailable), box
    assert box["error"].key == "remote_timeout" and "0.5 seconds" in str(box["error"])


def _reply(text: str, clamped=None) -> dict:
    return {"text": text, "tokens": 3, "prompt_tokens": 9, "seconds": 0.25,
            "clamped": clamped}  # fmt: skip


def test_stream_prints_the_whole_reply_once(monkeypatch, capsys):
    """stream=True prints the reply when it arrives; a callback gets it; no double show."""
    fake_service(monkeypatch, lambda r: httpx.Response(200, json=_reply("Seoul.")))
    model = kit.load_model()
    reply = model.chat("Capital of Korea?", stream=True)
    assert capsys.readouterr().out == "Seoul.\n"
    assert reply == "Seoul." and reply.streamed and reply.tokens == 3
    pieces: list[str] = []
    again = model.chat("Capital of Korea?", stream=pieces.append)
    assert pieces == ["Seoul."] and not again.streamed
    quiet = model.chat("Capital of Korea?")  # not a notebook: nothing printed
    assert capsys.readouterr().out == "" and not quiet.streamed


def test_clamped_reply_prints_the_local_notice_once(monkeypatch, capsys):
    """When the quota cut max_new_tokens, is the local quota_clamped notice shown once?"""
    answer = {"replies": [_reply("a", 7), _reply("b", 7)]}
    fake_service(monkeypatch, lambda r: httpx.Response(200, json=answer))
    replies = kit.load_model().chat_batch(["x", "y"])
    assert replies == ["a", "b"]
    assert capsys.readouterr().err.count(messages.t("quota_clamped", left=7)) == 1


def test_requests_carry_the_settings_and_the_adapter(monkeypatch):
    """Does a call send the checked settings, and an adapter's id, as the spec says?"""
    record = {"id": "kim/genres", "owner": "kim", "name": "genres", "shared": False,
              "manifest": {"base": "smollm2-135m", "dataset": "movie_genres",
                           "steps": 2, "final_loss": 1.5, "trainable_parameters": 99},
              "losses": [2.0, 1.5]}  # fmt: skip

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("api/adapters/kim/genres"):
            return httpx.Response(200, json=record)
        return httpx.Response(200, json=_reply("ok"))

    seen = fake_service(monkeypatch, answer)
    adapter = kit.load_model(adapter="kim/genres")
    assert isinstance(adapter, kit.Adapter) and adapter.trainable_parameters() == 99
    assert adapter.losses == [2.0, 1.5] and "kim/genres" in repr(adapter)
    adapter.chat("hi", max_new_tokens=5, system="Be brief.")
    body = json.loads(seen[-1].content)
    assert body == {"messages": [{"role": "system", "content": "Be brief."},
                                 {"role": "user", "content": "hi"}],
                    "max_new_tokens": 5, "temperature": 0.0, "top_p": 1.0, "top_k": 0,
                    "seed": None, "adapter": "kim/genres"}  # fmt: skip
    adapter.base.chat("hi")
    assert "adapter" not in json.loads(seen[-1].content)


def test_adapter_names_and_paths(monkeypatch, capsys):
    """A bare name is yours, owner/name is shared, a folder path keeps its last part."""
    from kit.hub.adapters import adapter_id, adapter_name

    fake_service(monkeypatch, lambda r: httpx.Response(200, json={"student": "kim"}))
    model = kit.load_model()
    assert adapter_id("genres", model) == "kim/genres"
    assert adapter_id("lee/genres", model) == "lee/genres"
    assert adapter_id("./adapters/genres", model) == "kim/genres"
    assert adapter_name("genres") == "genres"
    assert adapter_name("/tmp/x/movie-genres-adapter") == "movie-genres-adapter"
    assert capsys.readouterr().err == ""
    with pytest.raises(SettingError):
        adapter_name("..")


def test_requests_from_threads_share_one_client(monkeypatch):
    """Is one keep-alive client used from several threads at once without trouble?"""
    fake_service(monkeypatch, lambda r: httpx.Response(200, json=_reply("ok")))
    model = kit.load_model()
    results: list[str] = []

    def ask():
        results.append(str(model.chat("hi")))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    started = time.perf_counter()
    for each in threads:
        each.start()
    for each in threads:
        each.join(10)
    assert results == ["ok"] * 8 and time.perf_counter() - started < 10
    assert len(remote_http._clients) == 1


def _job_service(monkeypatch, states: list[dict]) -> None:
    """A fake service whose job goes through `states`, one per poll."""
    polls = iter(states)

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("api/finetune"):
            return httpx.Response(202, json={"job": {"id": "j1", **states[0]}})
        return httpx.Response(200, json={"job": {"id": "j1", **next(polls)}})

    fake_service(monkeypatch, answer)
    monkeypatch.setattr("kit.hub.finetune.POLL_SECONDS", 0)


ROW_FIELDS = {"row": 3, "tokens": 400, "limit": 384}


@pytest.mark.parametrize(
    ("last", "key", "kind"),
    [
        ({"state": "failed", "error": {"key": "finetune_row_too_long",
                                        "fields": ROW_FIELDS}},
         "finetune_row_too_long", KitError),
        ({"state": "failed", "error": None}, "remote_job_failed", KitError),
        ({"state": "interrupted", "error": {"key": "no_such_key", "fields": {}}},
         "remote_job_interrupted", KitError),
    ],
)  # fmt: skip
def test_a_job_that_ends_badly_says_why(monkeypatch, last, key, kind):
    """Failed and interrupted jobs raise their own message (or a clear generic one)."""
    queued = {"state": "queued", "position": 2, "steps": 2, "losses": []}
    _job_service(monkeypatch, [queued, {**queued, "state": "running"}, last])
    with pytest.raises(kind) as caught:
        kit.finetune(kit.load_model(), ROWS, steps=2, progress=False)
    assert caught.value.key == key


def test_losing_the_service_while_waiting_names_the_job(monkeypatch):
    """A dead service mid-wait: ServiceUnavailable that says how to find the job."""
    monkeypatch.setattr("kit.hub.finetune.POLL_SECONDS", 0)

    def gone(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("api/finetune"):
            return httpx.Response(202, json={"job": {"id": "j1", "state": "queued"}})
        raise httpx.ConnectError("refused")

    fake_service(monkeypatch, gone)
    with pytest.raises(ServiceUnavailable) as caught:
        kit.finetune(kit.load_model(), ROWS, steps=2, progress=False)
    assert "kit.remote.wait_for_job('j1')" in str(caught.value)


# --- against a real service (tests/hubfake.py) ------------------------------------
USERS = {"tok-kim": student("kim"), "tok-lee": student("lee"),
         "tok-choi": student("choi"), "tok-park": teacher("park")}  # fmt: skip


@pytest.fixture(scope="module")
def tiny_hub(tiny_model, tmp_path_factory):
    """A service on the tiny model, with students kim, lee, choi and teacher park."""
    with running_service(tmp_path_factory.mktemp("hub"), tiny_model, USERS) as url:
        yield url


@pytest.fixture
def hub(tiny_hub, monkeypatch, fresh_quota):
    """Return a function that makes this kernel a hub user's (by token)."""

    def become(token: str) -> str:
        monkeypatch.setenv("KIT_SERVICE_URL", tiny_hub)
        monkeypatch.setenv("JUPYTERHUB_API_TOKEN", token)
        return tiny_hub

    monkeypatch.setattr("kit.hub.finetune.POLL_SECONDS", 0.05)
    return become


def test_every_method_answers_as_the_local_model(hub, tiny_model):
    """Greedy chat, generate, batches, probabilities and tokens: the same as local."""
    hub("tok-kim")
    model = kit.load_model()
    assert model.name == tiny_model.name and model.context_length == 256
    assert model.fingerprint() == tiny_model.fingerprint()
    talk = [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Name a colour."}]  # fmt: skip
    for remote, local in [
        (model.chat(talk, max_new_tokens=8), tiny_model.chat(talk, max_new_tokens=8)),
        (model.generate("Once upon", max_new_tokens=6),
         tiny_model.generate("Once upon", max_new_tokens=6)),
    ]:  # fmt: skip
        assert remote == local and remote.tokens == local.tokens
        assert remote.prompt_tokens == local.prompt_tokens
    questions = ["Hi", [{"role": "user", "content": "Why is the sky blue?"}]]
    assert model.chat_batch(questions, max_new_tokens=5) == tiny_model.chat_batch(
        questions, max_new_tokens=5
    )
    for kwargs in ({"top": 5}, {"tokens": [" Seoul", "Busan"]}):
        remote = model.next_token_probs("The capital of Korea is", **kwargs)
        local = tiny_model.next_token_probs("The capital of Korea is", **kwargs)
        assert remote.pieces == local.pieces and remote.ids == local.ids
        assert remote.probs == pytest.approx(local.probs, abs=1e-5)
    text = "안녕, Baeum!"
    assert model.tokenize(text) == tiny_model.tokenize(text)
    assert model.count_tokens(text) == tiny_model.count_tokens(text)
    ids = tiny_model.tokenize(text).ids
    assert model.decode(ids) == tiny_model.decode(ids) == text
    assert model.chat_text(talk) == tiny_model.chat_text(talk)


def test_real_model_text_and_probabilities_match(real_model, tmp_path, monkeypatch,
                                                 fresh_quota):  # fmt: skip
    """On the bundled model: the same sentences, and the same probabilities to 1e-5."""
    with running_service(tmp_path, real_model, USERS) as url:
        monkeypatch.setenv("KIT_SERVICE_URL", url)
        monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "tok-kim")
        model = kit.load_model()
        question = "What is the capital of France?"
        remote = model.chat(question, max_new_tokens=12)
        assert remote == real_model.chat(question, max_new_tokens=12)
        assert "Paris" in remote
        probs = model.next_token_probs("The capital of France is")
        local = real_model.next_token_probs("The capital of France is")
        assert probs.pieces == local.pieces and probs.pieces[0] == " Paris"
        assert probs.probs == pytest.approx(local.probs, abs=1e-5)
        assert "Paris" in probs._repr_html_()


def test_quota_show_and_remaining_come_from_the_service(hub, capsys):
    """After 3 chats, does the kernel see the service's ledger (and not charge its own)?"""
    hub("tok-lee")
    model = kit.load_model()
    before = kit.quota.remaining()
    for _ in range(3):
        model.chat("Hi", max_new_tokens=2)
    after = kit.quota.remaining()
    assert before["generations"] - after["generations"] == 3
    assert 1 <= before["tokens"] - after["tokens"] <= 6
    kit.quota.show()
    shown = capsys.readouterr().out
    assert "Quota of lee" in shown and "the Baeum service keeps these limits" in shown
    assert "honour system" not in shown
    assert kit.quota.current().usage()["generations"] == 0  # the local ledger


def test_teacher_limits_reach_the_student_as_quota_exceeded(hub, capsys):
    """kit quota set (teacher, via the service) → the student gets a 429 in ko and en."""
    from kit.cli import quota as quota_cli

    def cli(*argv: str) -> int:
        return quota_cli.main(list(argv))

    hub("tok-park")
    assert cli("set", "--student", "choi", "generations=0") == 0
    out = capsys.readouterr().out
    assert "student choi: generations 500 → 0" in out and "Baeum service" in out
    assert cli("set", "--timezone", "Asia/Seoul") == 2  # set where the service runs
    hub("tok-choi")
    with pytest.raises(QuotaExceeded) as caught:
        kit.load_model().chat("Hi")
    assert "generations" in caught.value.in_language("en")
    assert "생성 횟수" in caught.value.in_language("ko")
    assert cli("show", "--class") == 2  # a student may not see the class
    assert "teachers" in capsys.readouterr().err
    hub("tok-park")
    assert cli("show", "--class") == 0
    table = capsys.readouterr().out
    assert "Baeum service" in table and "choi" in table and "0/0" in table


def test_unknown_token_says_what_to_do(hub):
    """A token the hub does not know: the restart-your-server message, not a 401 dump."""
    hub("forged")
    with pytest.raises(KitError) as caught:
        kit.load_model()
    assert caught.value.key == "remote_bad_token"


def test_finetune_on_the_service_gives_an_adapter_like_local(hub, tiny_model, tmp_path):
    """Remote fine-tune: same losses, sizes and names as local; answers; evaluates."""
    stories = kit.datasets.Dataset(ROWS, name="stories")
    local = kit.finetune(tiny_model, stories, steps=3, batch_size=4, seed=1,
                         progress=False)  # fmt: skip
    hub("tok-kim")
    steps: list[tuple[int, float]] = []
    model = kit.load_model()
    adapter = kit.finetune(model, stories, steps=3, batch_size=4, seed=1,
                           progress=False, on_step=lambda *s: steps.append(s))  # fmt: skip
    assert isinstance(adapter, kit.Adapter) and adapter.owner == "kim"
    assert [s for s, _ in steps] == [1, 2, 3]
    assert adapter.losses == pytest.approx(local.losses, abs=1e-4)
    assert adapter.manifest["dataset"] == local.manifest["dataset"] == "stories"
    assert adapter.manifest["dataset_fingerprint"] == stories.fingerprint()
    assert adapter.trainable_parameters() == local.trainable_parameters()
    assert adapter.adapter_mb() == pytest.approx(local.adapter_mb())
    assert model.parameter_count() == tiny_model.parameter_count()
    assert model.size_mb() == pytest.approx(tiny_model.size_mb())
    assert adapter.parameter_count() == local.parameter_count()
    assert adapter.size_mb() == pytest.approx(local.size_mb())
    assert list(adapter.plot_loss().lines[0].get_ydata()) == adapter.losses
    assert adapter.chat("ghost story", max_new_tokens=4) == local.chat(
        "ghost story", max_new_tokens=4
    )
    report = kit.evaluate(adapter, stories[:6], progress=False)
    assert len(report.rows) == 6
    assert adapter.manifest["scores"]["stories"] == report.score
    folder = adapter.save(tmp_path / "adapters" / "my-genres")
    assert folder == tmp_path / "adapters" / "my-genres"
    assert "kim/my-genres" in [each["id"] for each in kit.remote.adapters()]
    again = kit.load_model(adapter="my-genres")
    assert again.manifest["scores"] == {"stories": report.score}
    assert again.adapter_id == "kim/my-genres" and again.losses == adapter.losses
    assert again.chat("ghost story", max_new_tokens=4) == adapter.chat(
        "ghost story", max_new_tokens=4
    )


def test_students_cannot_open_each_others_adapters(hub):
    """lee cannot use kim's adapter until kim shares it."""
    hub("tok-kim")
    mine = kit.finetune(kit.load_model(), ROWS, steps=1, batch_size=2, progress=False)
    hub("tok-lee")
    with pytest.raises(NotAllowed):
        kit.load_model(adapter=mine.adapter_id)
    ask = {"messages": [{"role": "user", "content": "hi"}], "adapter": mine.adapter_id}
    with pytest.raises(NotAllowed):  # nor by calling the service directly
        remote_http.call("POST", "api/chat", ask)
    hub("tok-kim")
    mine.share()
    hub("tok-lee")
    assert kit.load_model(adapter=mine.adapter_id).chat("hi", max_new_tokens=2)


def test_stopping_the_cell_leaves_the_job_running(hub):
    """Ctrl-C while waiting: a message with the job id, and wait_for_job gets it later."""
    hub("tok-kim")

    def interrupt(step, loss):
        raise KeyboardInterrupt

    with pytest.raises(KitError) as caught:
        kit.finetune(kit.load_model(), ROWS, steps=2, batch_size=2, progress=False,
                     on_step=interrupt)  # fmt: skip
    assert caught.value.key == "remote_job_detached"
    job = caught.value.fields["job"]
    assert f"kit.remote.wait_for_job('{job}')" in str(caught.value)
    adapter = kit.remote.wait_for_job(job, progress=False)
    assert adapter.adapter_id == f"kim/ft-{job}" and len(adapter.losses) == 2


def test_a_saved_adapter_is_a_folder_that_loads_again_anywhere(
    hub, tiny_model, tmp_path
):
    """save(path) writes the files; load_model(adapter=path) uploads them (grading)."""
    hub("tok-kim")
    trained = kit.finetune(kit.load_model(), ROWS, steps=2, batch_size=4, seed=3,
                           progress=False)  # fmt: skip
    trained.manifest["scores"]["stories"] = 0.75  # as kit.evaluate leaves it
    folder = trained.save(tmp_path / "handed-in" / "genres-a4")
    assert folder == tmp_path / "handed-in" / "genres-a4"
    names = {f.name for f in folder.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", MANIFEST} <= names
    assert read_manifest(folder)["scores"] == {"stories": 0.75}
    asks = ["ghost story", "a robot in love"]
    answers = [trained.chat(q, max_new_tokens=5) for q in asks]
    remote_http.close_all()  # a fresh kernel: the teacher grades the handed-in folder
    hub("tok-park")
    graded = kit.load_model(adapter=folder)
    assert graded.adapter_id == "park/genres-a4"
    assert graded.manifest["scores"] == {"stories": 0.75}
    assert [graded.chat(q, max_new_tokens=5) for q in asks] == answers
    assert graded.save(folder) == folder  # saving over it replaces it, as local mode
    hub("tok-lee")
    with pytest.raises(NotAllowed):  # nor can lee fetch kim's files
        remote_http.send("GET", "api/adapters/kim/genres-a4/files")
    # An adapter saved in local mode loads in hub mode and answers the same.
    local = kit.finetune(tiny_model, ROWS, steps=2, batch_size=4, progress=False)
    mine = kit.load_model(adapter=local.save(tmp_path / "from-laptop"))
    assert mine.adapter_id == "lee/from-laptop"
    assert mine.trainable_parameters() == local.trainable_parameters()
    assert mine.chat("ghost story", max_new_tokens=5) == local.chat(
        "ghost story", max_new_tokens=5
    )


def test_a_folder_for_another_base_is_refused_before_sending(hub, tmp_path):
    """A saved adapter of another model: the local-mode message, nothing uploaded."""
    hub("tok-choi")
    trained = kit.finetune(kit.load_model(), ROWS, steps=1, batch_size=2,
                           progress=False)  # fmt: skip
    folder = trained.save(tmp_path / "other-base")
    manifest = read_manifest(folder)
    (folder / MANIFEST).write_text(json.dumps({**manifest, "base": "qwen2.5-0.5b",
                                               "base_fingerprint": "0" * 24}))  # fmt: skip
    with pytest.raises(SettingError) as caught:
        kit.load_model(adapter=folder)
    assert caught.value.key == "adapter_wrong_base"
    assert str(folder) in caught.value.in_language("en")
    assert "qwen2.5-0.5b" in caught.value.in_language("ko")
    kept = kit.load_model(adapter="choi/other-base")  # the service's copy: untouched
    assert kept.manifest["base_fingerprint"] == manifest["base_fingerprint"]
