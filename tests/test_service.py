"""The Baeum service over HTTP: who may call, exact quotas, clear errors, fair batches."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from kit.ledger.amounts import KINDS
from kit.ledger.store import Ledger
from tests.hubfake import FakeHubAuth, serving, student, teacher, user

USERS = {
    "tok-kim": student("kim"),
    "tok-park": student("park"),
    "tok-choi": student("choi"),
    "tok-jung": student("jung"),
    "tok-lee": teacher("lee"),
    "tok-noscope": user("han", scopes=["read:users"]),
    "tok-xss": student("<script>alert(1)</script>"),
}
HI = [{"role": "user", "content": "Hello! What is a language model?"}]
WEIGHTS = "adapter_model.safetensors"


def auth(token: str, lang: str | None = None) -> dict:
    headers = {"Authorization": f"token {token}"}
    if lang:
        headers["Accept-Language"] = lang
    return headers


@pytest.fixture()
def service(tmp_path, tiny_model):
    """A running service on the tiny model; yields (client, Service)."""
    with serving(tmp_path, tiny_model, USERS) as (url, svc):
        with httpx.Client(base_url=url, timeout=60) as client:
            yield client, svc


def chat(client, token="tok-kim", **body):
    return client.post("api/chat", headers=auth(token), json={"messages": HI, **body})


def hold_generation(monkeypatch, model):
    """Make generation wait: return (running, release) events to watch and free it."""
    running, release = threading.Event(), threading.Event()
    generate = model._generate_batch

    def held(rows, settings, stream=False, **engine):
        running.set()
        release.wait(30)
        return generate(rows, settings, stream, **engine)

    monkeypatch.setattr(model, "_generate_batch", held)
    return running, release


def test_fake_hub_answers_like_hub_oauth():
    """Does the fake hub give a known token's user model and None for others?"""
    import asyncio

    fake = FakeHubAuth({"t": student("kim")})
    assert asyncio.run(fake.user_for_token("t", sync=False))["name"] == "kim"
    assert asyncio.run(fake.user_for_token("forged", sync=False)) is None


def test_no_token_or_forged_token_is_401_json(service):
    """Is a request without a token, or with one the hub does not know, refused (401)?"""
    client, _ = service
    for headers, key in [({}, "service_no_token"),
                         (auth("forged"), "service_bad_token"),
                         ({"Authorization": "Basic abc"}, "service_no_token")]:  # fmt: skip
        answer = client.get("api/info", headers=headers)
        assert answer.status_code == 401
        assert answer.json()["error"] == key
        assert "허브" in answer.json()["message"]["ko"]
    bearer = client.get("api/info", headers={"Authorization": "Bearer tok-kim"})
    assert bearer.status_code == 200 and bearer.json()["context_length"] == 256


def test_token_without_the_service_scope_is_403(service):
    """Is a hub user whose token lacks access:services!service=baeum refused (403)?"""
    client, _ = service
    answer = client.post("api/chat", headers=auth("tok-noscope"), json={"messages": HI})
    assert answer.status_code == 403
    assert answer.json()["error"] == "service_no_scope"
    assert answer.json()["fields"]["scope"] == "access:services!service=baeum"


def test_students_may_not_use_teacher_endpoints(service):
    """Do quota/class, quota/limits and the usage page answer 403 to a student?"""
    client, _ = service
    asks = [("GET", "api/quota/class", None), ("GET", "usage", None),
            ("PUT", "api/quota/limits", {"limits": {"tokens": -1}})]  # fmt: skip
    for method, path, body in asks:
        answer = client.request(method, path, headers=auth("tok-kim"), json=body)
        assert answer.status_code == 403, path
        assert answer.json()["error"] == "service_teacher_only"
    assert not service[1].config.quota_file.exists()  # nothing was written


def test_chat_answers_as_local_mode_and_charges_exactly(
    service, tiny_model, fresh_quota
):
    """Are replies the local model's greedy text, and is the ledger exactly what they report?"""
    client, svc = service
    first = chat(client, max_new_tokens=12)
    assert first.status_code == 200
    assert first.json()["text"] == tiny_model.chat(HI, max_new_tokens=12)
    assert first.json()["clamped"] is None
    batch = client.post(
        "api/chat_batch",
        headers=auth("tok-kim"),
        json={"conversations": [HI, "Say hi", [{"role": "user", "content": "안녕"}]],
              "max_new_tokens": 7},
    )  # fmt: skip
    raw = client.post("api/generate", headers=auth("tok-kim"),
                      json={"prompt": "Once upon a time", "max_new_tokens": 9})  # fmt: skip
    assert raw.json()["text"] == tiny_model.generate(
        "Once upon a time", max_new_tokens=9
    )
    replies = [first.json(), *batch.json()["replies"], raw.json()]
    ledger = Ledger(svc.config.quota_db)
    day = svc.quota("kim").day()
    balance = ledger.balance("kim", day)
    assert balance["used"]["generations"] == 5
    assert balance["used"]["tokens"] == sum(r["tokens"] for r in replies)
    assert balance["reserved"]["tokens"] == 0 and ledger.audit() == []
    assert ledger.usage("park", day)["generations"] == 0  # charged to the caller only


def test_token_tools_answer_as_local_mode(service, tiny_model):
    """Do tokenize, decode, chat_text and next_token_probs match the local model?"""
    client, _ = service
    h = auth("tok-kim")
    tokens = client.post("api/tokenize", headers=h, json={"text": "배움 kit"}).json()
    local = tiny_model.tokenize("배움 kit")
    assert (tokens["ids"], tokens["pieces"]) == (local.ids, local.pieces)
    text = client.post("api/decode", headers=h, json={"ids": local.ids}).json()["text"]
    assert text == "배움 kit"
    template = client.post("api/chat_text", headers=h, json={"messages": HI}).json()
    assert template["text"] == tiny_model.chat_text(HI)
    probs = client.post("api/next_token_probs", headers=h,
                        json={"text": "The sky is", "top": 3}).json()  # fmt: skip
    assert probs["ids"] == tiny_model.next_token_probs("The sky is", top=3).ids


def write_limits(svc, text: str) -> None:
    svc.config.quota_file.write_text(text, encoding="utf-8")


def test_over_quota_is_429_in_korean_and_english(service):
    """Is a request over today's quota refused (429) before any work, in ko and en?"""
    client, svc = service
    write_limits(svc, "[class]\ngenerations = 1\ntokens = 1000\n")
    assert chat(client, max_new_tokens=3).status_code == 200
    answer = client.post("api/chat", headers=auth("tok-kim", "ko-KR,ko;q=0.9"),
                         json={"messages": HI, "max_new_tokens": 3})  # fmt: skip
    assert answer.status_code == 429
    body = answer.json()
    assert body["error"] == "quota_exceeded" and body["terms"] == ["kind"]
    assert body["fields"]["kind"] == "kind_generations"
    assert (
        "생성 횟수" in body["message"]["ko"] and body["text"] == body["message"]["ko"]
    )
    assert "generations" in body["message"]["en"]
    usage = svc.quota("kim").usage()
    assert usage["generations"] == 1  # the refused request reserved nothing
    assert chat(client, token="tok-park", max_new_tokens=3).status_code == 200


def test_quota_clamps_max_new_tokens_as_local_mode(service):
    """With 6 tokens left, is the answer cut to 6 tokens and `clamped` reported?"""
    client, svc = service
    write_limits(svc, "[class]\ntokens = 6\n")
    answer = chat(client, max_new_tokens=40).json()
    assert answer["clamped"] == 6 and answer["tokens"] <= 6
    status = client.get("api/quota", headers=auth("tok-kim")).json()
    assert status["student"] == "kim"
    assert ["tokens", answer["tokens"], 6, 6 - answer["tokens"]] in status["rows"]


def test_teacher_changes_a_limit_and_the_next_request_sees_it(service):
    """Does PUT api/quota/limits take effect on the very next request, no restart?"""
    client, svc = service
    assert chat(client, max_new_tokens=2).status_code == 200
    change = client.put("api/quota/limits", headers=auth("tok-lee"),
                        json={"student": "kim", "limits": {"generations": 1}})  # fmt: skip
    assert change.status_code == 200
    assert change.json()["students"]["kim"] == {"generations": 1}
    assert chat(client, max_new_tokens=2).status_code == 429
    assert chat(client, token="tok-park", max_new_tokens=2).status_code == 200
    client.put("api/quota/limits", headers=auth("tok-lee"),
               json={"student": "kim", "limits": {"generations": -1}})  # fmt: skip
    assert chat(client, max_new_tokens=2).status_code == 200
    seen = client.get("api/quota/class", headers=auth("tok-lee")).json()
    assert seen["students"]["kim"]["generations"] == 2
    assert seen["limits"]["kim"]["generations"] is None  # unlimited
    bad = client.put("api/quota/limits", headers=auth("tok-lee"),
                     json={"limits": {"tokenz": 5}})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["error"] == "quota_cli_bad_kind"


@pytest.mark.parametrize(
    ("path", "body", "status", "key"),
    [
        ("api/chat", b"{not json", 400, "service_bad_json"),
        ("api/chat", b"[1, 2]", 400, "service_bad_body"),
        ("api/chat", {"mesages": HI}, 400, "service_unknown_field"),
        ("api/generate", {"max_new_tokens": 5}, 400, "service_missing_field"),
        ("api/chat", {"messages": "hi", "max_new_tokens": "lots"}, 400, "bad_type"),
        ("api/chat", {"messages": [{"role": "robot"}]}, 400, "bad_messages"),
        ("api/chat", {"messages": "hi", "max_new_tokens": 10**9}, 422, "bad_number"),
        ("api/chat", {"messages": "hi", "top_p": 0}, 422, "bad_number"),
        ("api/generate", {"prompt": "   "}, 422, "empty_prompt"),
        ("api/generate", {"prompt": "word " * 400}, 413, "prompt_too_long"),
        ("api/chat", {"messages": "hi", "adapter": "kim/nothing"}, 404, None),
        ("api/chat", {"messages": "hi", "adapter": "../../etc"}, 404, None),
        ("api/decode", {"ids": [1, 10**9]}, 422, "bad_number"),
        ("api/finetune", {"rows": [{"text": "a", "label": "b"}] * 30}, 413,
         "finetune_data_size"),
        ("api/chat_batch", {"conversations": ["hi"] * 9}, 413,
         "service_too_many_conversations"),
        ("api/chat", {"messages": "x" * 5000}, 413, "service_body_too_big"),
        ("api/jobs/nope", None, 404, None),
        ("api/nowhere", {}, 404, "service_no_path"),
    ],
)  # fmt: skip
def test_bad_input_is_a_clear_4xx_and_the_service_keeps_serving(
    tmp_path, tiny_model, path, body, status, key
):
    """Is each bad request answered with its status and a message, then all is well?"""
    limits = dict(max_rows=20, max_conversations=8, max_body_size=4000)
    with serving(tmp_path, tiny_model, USERS, **limits) as (url, _svc):
        with httpx.Client(base_url=url, timeout=60) as client:
            method = "GET" if path.startswith("api/jobs") else "POST"
            send = {"content": body} if isinstance(body, bytes) else {"json": body}
            answer = client.request(method, path, headers=auth("tok-kim"), **send)
            assert answer.status_code == status, answer.text
            error = answer.json()
            assert key is None or error["error"] == key
            assert (
                error["message"]["en"]
                and error["message"]["ko"] != error["message"]["en"]
            )
            assert chat(client, max_new_tokens=2).status_code == 200


def test_concurrent_students_share_batches(service, tiny_model, monkeypatch):
    """While one batch runs, do three students' requests go out together in one batch?"""
    client, svc = service
    running, release = threading.Event(), threading.Event()
    generate = tiny_model._generate_batch

    def held(rows, settings, stream=False, **engine):
        if not running.is_set():  # the first batch waits until the others queue
            running.set()
            release.wait(30)
        return generate(rows, settings, stream, **engine)

    monkeypatch.setattr(tiny_model, "_generate_batch", held)
    tokens = ["tok-kim", "tok-park", "tok-choi", "tok-jung"]
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(chat, client, tokens[0], max_new_tokens=4)
        assert running.wait(30)
        rest = [pool.submit(chat, client, t, max_new_tokens=4) for t in tokens[1:]]
        deadline = time.monotonic() + 30
        while svc.batcher.stats()["queued"] < 3 and time.monotonic() < deadline:
            time.sleep(0.01)  # the three requests reach the queue
        release.set()
        answers = [first.result(), *(f.result() for f in rest)]
    assert [a.status_code for a in answers] == [200] * 4
    assert svc.batcher.stats()["largest_batch"] == 3
    alone = tiny_model.chat(HI, max_new_tokens=4)
    assert {a.json()["text"] for a in answers} == {alone}  # batched = solo, greedy


def test_stopping_fails_queued_work_with_503_and_keeps_the_ledger_straight(
    service, tiny_model, monkeypatch
):
    """On stop, is queued work refused (503), running work finished, nothing left open?"""
    client, svc = service
    running, release = hold_generation(monkeypatch, tiny_model)
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(chat, client, "tok-kim", max_new_tokens=3)
        assert running.wait(30)
        queued = pool.submit(chat, client, "tok-park", max_new_tokens=3)
        deadline = time.monotonic() + 30
        while svc.batcher.stats()["queued"] < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        stopping = pool.submit(svc.stop)
        assert queued.result().status_code == 503
        assert queued.result().json()["error"] == "service_stopping"
        release.set()
        assert first.result().status_code == 200
        stopping.result()
    assert chat(client).json()["error"] == "service_not_ready"
    ledger = Ledger(svc.config.quota_db)
    day = svc.quota("kim").day()
    assert ledger.balance("kim", day)["used"]["generations"] == 1
    assert ledger.usage("park", day) == dict.fromkeys(KINDS, 0.0)  # released
    assert ledger.audit() == []


def test_start_releases_reservations_left_by_a_crash(tmp_path, tiny_model):
    """Does a restarted service give back what a crashed one had reserved?"""
    ledger = Ledger(tmp_path / "service" / "quota.sqlite")
    ledger.reserve("kim", "2026-03-02", {"tokens": 500}, {"tokens": 1000})
    with serving(tmp_path, tiny_model, USERS):
        pass
    assert ledger.balance("kim", "2026-03-02")["reserved"]["tokens"] == 0


def test_usage_page_shows_a_chart_and_escapes_names(service):
    """Does a teacher see a table and a chart, with a hostile user name escaped?"""
    client, _ = service
    assert chat(client, token="tok-xss", max_new_tokens=2).status_code == 200
    assert chat(client, token="tok-kim", max_new_tokens=2).status_code == 200
    page = client.get("usage", headers=auth("tok-lee", "ko"))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "data:image/png;base64," in page.text and "사용량" in page.text


def wait_for_job(client, job_id: str, token: str = "tok-kim") -> dict:
    """Poll a job until it is no longer queued or running (bounded)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = client.get(f"api/jobs/{job_id}", headers=auth(token)).json()["job"]
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job['state']}")


def test_finetune_job_makes_an_adapter_that_answers_and_can_be_shared(service):
    """Does a fine-tune run as its student, charge its steps, and give a usable adapter?"""
    import kit

    client, svc = service
    rows = [dict(r) for r in kit.datasets.load("movie_genres", lang="en")][:8]
    asked = client.post(
        "api/finetune",
        headers=auth("tok-kim"),
        json={"rows": rows, "name": "genres", "dataset": "movie_genres",
              "settings": {"steps": 2, "batch_size": 2, "rank": 4}},
    )  # fmt: skip
    assert asked.status_code == 202, asked.text
    job = wait_for_job(client, asked.json()["job"]["id"])
    assert job["state"] == "done" and job["adapter"] == "kim/genres"
    made = client.get("api/adapters/kim/genres", headers=auth("tok-kim")).json()
    assert made["manifest"]["dataset"] == "movie_genres"  # not "data"
    assert len(job["losses"]) == 2
    assert svc.quota("kim").usage()["finetune_steps"] == 2
    other = client.get(f"api/jobs/{job['id']}", headers=auth("tok-park"))
    assert other.status_code == 403
    own = chat(client, adapter="kim/genres", max_new_tokens=3)
    assert own.status_code == 200
    assert chat(client, "tok-park", adapter="kim/genres").status_code == 403
    shared = client.post("api/adapters/kim/genres/share", headers=auth("tok-kim"),
                         json={"shared": True})  # fmt: skip
    assert shared.json() == {"id": "kim/genres", "shared": True}
    assert (
        chat(client, "tok-park", adapter="kim/genres", max_new_tokens=3).json()["text"]
        == own.json()["text"]
    )
    listed = client.get("api/adapters", headers=auth("tok-park")).json()["adapters"]
    assert [a["id"] for a in listed] == ["kim/genres"]
    copied = client.post("api/adapters/kim/genres/copy", headers=auth("tok-kim"),
                         json={"name": "genres-v2"})  # fmt: skip
    assert copied.json() == {"id": "kim/genres-v2"}
    info = client.get("api/adapters/kim/genres-v2", headers=auth("tok-kim")).json()
    assert info["losses"] == job["losses"] and info["shared"] is False
    again = {"name": "genres-v2", "scores": {"movie_genres": 0.5}}
    taken = client.post("api/adapters/kim/genres/copy", headers=auth("tok-kim"),
                        json=again)  # fmt: skip
    assert taken.status_code == 422 and taken.json()["error"] == "adapter_name_taken"
    replaced = client.post("api/adapters/kim/genres/copy", headers=auth("tok-kim"),
                           json={**again, "replace": True})  # fmt: skip
    assert replaced.json() == {"id": "kim/genres-v2"}
    info = client.get("api/adapters/kim/genres-v2", headers=auth("tok-kim")).json()
    assert info["manifest"]["scores"] == {"movie_genres": 0.5}


def test_too_many_requests_in_flight_for_one_student_is_429(
    tmp_path, tiny_model, monkeypatch
):
    """With per_student=1, is a student's second request at once refused (429)?"""
    running, release = hold_generation(monkeypatch, tiny_model)
    with serving(tmp_path, tiny_model, USERS, per_student=1) as (url, svc):
        with httpx.Client(base_url=url, timeout=60) as client:
            with ThreadPoolExecutor(1) as pool:
                first = pool.submit(chat, client, "tok-kim", max_new_tokens=2)
                assert running.wait(30)
                second = chat(client, "tok-kim", max_new_tokens=2)
                release.set()
                assert first.result().status_code == 200
            assert second.status_code == 429
            assert second.json()["error"] == "batch_too_busy"
            assert svc.quota("kim").usage()["generations"] == 1  # refused: not charged


def test_config_reads_the_hub_environment_and_flags_win(tmp_path):
    """Do JUPYTERHUB_SERVICE_URL/PREFIX and KIT_* set the config, and flags override?"""
    from kit.service.config import ServiceConfig

    env = {"JUPYTERHUB_SERVICE_URL": "http://10.0.0.5:9000",
           "JUPYTERHUB_SERVICE_PREFIX": "/services/ai", "KIT_SERVICE_DIR": str(tmp_path),
           "KIT_TEACHER_GROUP": "staff"}  # fmt: skip
    config = ServiceConfig.from_env({"port": 9100, "max_batch": None}, env=env)
    assert (config.host, config.port, config.prefix) == (
        "10.0.0.5",
        9100,
        "/services/ai/",
    )
    assert config.quota_file == tmp_path / "quota.toml"
    assert config.quota_db == str(tmp_path / "quota.sqlite")
    assert (config.teacher_group, config.max_batch) == ("staff", 16)
    with pytest.raises(TypeError):
        ServiceConfig.from_env({"max_bacth": 4}, env={})


def test_kit_serve_outside_a_hub_says_how_to_start_it(tmp_path, monkeypatch, capsys):
    """Does `kit serve` without the hub's token stop at once with a clear message?"""
    from kit import cli

    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    monkeypatch.setenv("KIT_LANG", "en")
    assert cli.main(["serve", "--dir", str(tmp_path)]) == 2
    assert "JUPYTERHUB_API_TOKEN" in capsys.readouterr().err


def test_a_bug_is_a_500_json_and_the_service_keeps_serving(
    service, tiny_model, monkeypatch
):
    """Does an unexpected error answer 500 JSON, release the quota, and harm nothing?"""
    client, svc = service

    def broken(rows, settings, stream=False, **engine):
        raise RuntimeError("boom")

    monkeypatch.setattr(tiny_model, "_generate_batch", broken)
    answer = chat(client, max_new_tokens=2)
    assert answer.status_code == 500
    assert answer.json()["error"] == "service_error"
    assert "boom" not in answer.text  # no internals for students
    monkeypatch.undo()
    assert chat(client, max_new_tokens=2).status_code == 200
    assert svc.quota("kim").usage()["generations"] == 1
    wrong = client.delete("api/chat", headers=auth("tok-kim"))
    assert wrong.status_code == 405 and wrong.json()["error"] == "service_bad_method"


@pytest.fixture()
def saved(service, tiny_model, fresh_quota):
    """The service, with kim's adapter kim/genres (trained here for 1 step)."""
    import kit

    rows = [dict(r) for r in kit.datasets.load("movie_genres", lang="en")][:8]
    adapter = kit.finetune(tiny_model, rows, steps=1, batch_size=2, rank=4,
                           progress=False, plot=False)  # fmt: skip
    client, svc = service
    svc.store.save("kim", "genres", adapter)
    return client, svc


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for name, data in files.items():
            zipped.writestr(name, data)
    return buffer.getvalue()


def files_of(client, adapter: str = "kim/genres", token: str = "tok-kim") -> dict:
    answer = client.get(f"api/adapters/{adapter}/files", headers=auth(token))
    assert answer.status_code == 200, answer.text
    zipped = zipfile.ZipFile(io.BytesIO(answer.content))
    return {name: zipped.read(name) for name in zipped.namelist()}


def upload(client, name, data: bytes, token="tok-kim", lang=None):
    headers = {**auth(token, lang), "Content-Type": "application/zip"}
    return client.post("api/adapters/upload", params={"name": name}, content=data,
                       headers=headers)  # fmt: skip


def test_download_is_the_adapter_folder_byte_for_byte(saved):
    """Is GET .../files a zip of exactly the service's files, for its owner or a teacher?"""
    client, svc = saved
    answer = client.get("api/adapters/kim/genres/files", headers=auth("tok-kim"))
    assert answer.headers["Content-Type"] == "application/zip"
    folder = svc.config.adapters_dir / "kim" / "genres"
    on_disk = {f.name: f.read_bytes() for f in folder.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors"} <= set(on_disk)
    assert files_of(client) == on_disk
    assert files_of(client, token="tok-lee") == on_disk  # a teacher
    other = client.get("api/adapters/kim/genres/files", headers=auth("tok-park"))
    assert other.status_code == 403 and other.json()["error"] == "adapter_not_allowed"
    missing = client.get("api/adapters/kim/nope/files", headers=auth("tok-kim"))
    assert missing.status_code == 404


def test_an_uploaded_zip_is_stored_as_yours_and_answers_the_same(saved):
    """Does a handed-in zip (flat, or in one folder) become <you>/<name>, same answers?"""
    client, svc = saved
    files = files_of(client)
    made = upload(client, "handed-in", zip_of(files), "tok-lee")
    assert made.status_code == 200 and made.json() == {"id": "lee/handed-in"}
    in_a_folder = zip_of({f"genres/{name}": data for name, data in files.items()})
    assert upload(client, "handed-in", in_a_folder, "tok-lee").status_code == 200
    info = client.get("api/adapters/lee/handed-in", headers=auth("tok-lee")).json()
    assert info["manifest"]["base_fingerprint"] == svc.model.fingerprint()
    stored = svc.config.adapters_dir / "lee" / "handed-in"
    assert (stored / WEIGHTS).read_bytes() == files[WEIGHTS]
    theirs = chat(client, "tok-lee", adapter="lee/handed-in", max_new_tokens=6)
    mine = chat(client, "tok-kim", adapter="kim/genres", max_new_tokens=6)
    assert theirs.json()["text"] == mine.json()["text"]


def test_unsafe_damaged_or_incomplete_zips_are_refused_and_nothing_is_written(
    saved, tmp_path
):
    """Zip slip, a damaged zip, missing files: 422 in ko, and no file written."""
    client, svc = saved
    files = files_of(client)
    good = zip_of(files)
    no_manifest = {k: v for k, v in files.items() if k != "kit-adapter.json"}
    cases = [
        (zip_of({**files, "../x": b"evil"}), "adapter_zip_unsafe"),
        (zip_of({**files, "/tmp/x": b"evil"}), "adapter_zip_unsafe"),
        (zip_of({**files, "..\\x": b"evil"}), "adapter_zip_unsafe"),
        (b"this is not a zip", "adapter_zip_damaged"),
        (good[: len(good) // 2], "adapter_zip_damaged"),
        (zip_of({**files, "kit-adapter.json": b"{half"}), "adapter_zip_damaged"),
        (zip_of({**files, WEIGHTS: b"junk"}), "adapter_zip_damaged"),
        (zip_of(no_manifest), "adapter_zip_incomplete"),
    ]
    stored = svc.config.adapters_dir

    def everything():
        return sorted(str(p) for p in tmp_path.rglob("*") if "quota" not in p.name)

    before = everything()
    for data, key in cases:
        answer = upload(client, "x", data, lang="ko")
        assert (answer.status_code, answer.json()["error"]) == (422, key)
        assert "해결" in answer.json()["text"]
    assert everything() == before
    assert not list(tmp_path.rglob("x")) and not (stored / "kim" / "x").exists()
    assert upload(client, "x", good).status_code == 200  # and it keeps serving


def test_an_adapter_for_another_base_is_refused_in_korean_and_english(saved):
    """Is a zip made for another base model a 422 with local mode's message key?"""
    client, svc = saved
    files = files_of(client)
    manifest = json.loads(files["kit-adapter.json"])
    manifest.update(base="qwen2.5-0.5b", base_fingerprint="0" * 24)
    wrong = zip_of({**files, "kit-adapter.json": json.dumps(manifest).encode()})
    answer = upload(client, "other", wrong)
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "adapter_wrong_base"
    assert "qwen2.5-0.5b" in body["message"]["en"] and "모델" in body["message"]["ko"]
    stored = client.get("api/adapters/kim/other", headers=auth("tok-kim"))
    assert stored.status_code == 404


def test_an_upload_over_the_limit_is_413_and_a_name_is_required(saved, monkeypatch):
    """Over 64 MB (here: a lowered limit) → 413 with the size; no name → 400."""
    client, _ = saved
    good = zip_of(files_of(client))
    monkeypatch.setattr("kit.hub.adapter_zip.MAX_ZIP_BYTES", len(good) - 1)
    for data in (good, good * 3):  # a little over (read, dropped) and far over
        answer = upload(client, "big", data)
        assert answer.status_code == 413
        assert answer.json()["error"] == "adapter_zip_too_big"
    monkeypatch.undo()
    forged = upload(client, "big", good, token="forged")
    assert forged.status_code == 401 and forged.json()["error"] == "service_bad_token"
    nameless = client.post("api/adapters/upload", content=good, headers=auth("tok-kim"))
    assert nameless.status_code == 400
    assert nameless.json()["error"] == "service_missing_field"
    assert upload(client, "big", good).json() == {"id": "kim/big"}


def test_the_service_loads_weights_even_where_kit_service_url_is_set(
    tmp_path, tiny_model, monkeypatch
):
    """Does make_app load the model itself, not connect to a service (KIT_SERVICE_URL)?"""
    from kit.service import server as service
    from kit.service.config import ServiceConfig

    asked = []
    monkeypatch.setenv("KIT_SERVICE_URL", "http://127.0.0.1:9/services/baeum/")
    monkeypatch.setattr(
        service, "load_local", lambda name, engine: asked.append(name) or tiny_model
    )
    app = service.make_app(
        ServiceConfig(dir=tmp_path, model="tiny"), auth=FakeHubAuth({})
    )
    service.service_of(app).stop()
    assert asked == ["tiny"] and service.service_of(app).model is tiny_model
