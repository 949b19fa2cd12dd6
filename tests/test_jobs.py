"""JobQueue: fine-tune jobs checked at submit, run fairly, charged, and recorded."""

from __future__ import annotations

import json
import threading

import pytest

import kit
from kit import quota
from kit.checks import generation_settings
from kit.errors import NotAllowed, NotFound, QuotaExceeded, SettingError
from kit.ledger.policy import DEFAULTS, Policy
from kit.ledger.store import Ledger
from kit.service.adapter_store import AdapterStore
from kit.service.batching import Batcher
from kit.service.jobs import JobQueue

ROWS = [
    {"text": f"{word} story number {i}", "label": label}
    for i in range(4)
    for word, label in (("ghost", "horror"), ("kiss", "romance"))
]
FAST = {"steps": 2, "batch_size": 2}


@pytest.fixture()
def env(tmp_path, tiny_model):
    """A store, a ledger and a quota_for with 5 fine-tune steps a day per student."""
    ledger = Ledger(tmp_path / "ledger.sqlite")
    policy = Policy(limits={**DEFAULTS, "finetune_steps": 5})

    class Env:
        store = AdapterStore(tmp_path / "adapters", tiny_model)
        folder = tmp_path / "jobs"
        queues: list[JobQueue] = []

        @staticmethod
        def quota_for(student: str) -> quota.Quota:
            return quota.Quota(policy, ledger, student)

        def queue(self, **kw) -> JobQueue:
            made = JobQueue(tiny_model, self.store, self.folder, self.quota_for, **kw)
            self.queues.append(made)
            return made

    yield Env()
    for made in Env.queues:
        made.stop(timeout=30)


def test_a_job_runs_to_done_and_its_adapter_opens(env):
    """Does a job train as its student, save the adapter, and record every step?"""
    jobs = env.queue()
    job = jobs.submit("kim", ROWS, FAST, name="genres")
    assert (job["state"], job["position"], job["steps"]) == ("queued", 1, 2)
    jobs.start()
    done = jobs.wait(job["id"], timeout=120)
    assert done["state"] == "done" and done["error"] is None
    assert done["adapter"] == "kim/genres" and done["step"] == 2
    assert len(done["losses"]) == 2 and done["started"] and done["finished"]
    adapter = env.store.open("kim", "kim/genres")
    assert adapter.losses == done["losses"]
    assert adapter.manifest["system"].startswith("Labels: ")  # as kit.finetune
    assert env.quota_for("kim").usage()["finetune_steps"] == 2
    on_disk = json.loads((env.folder / f"{job['id']}.json").read_text())
    assert on_disk["state"] == "done" and on_disk["losses"] == done["losses"]
    assert jobs.jobs_of("kim") == [done] and jobs.jobs_of("lee") == []


def test_a_job_trains_with_the_prompt_it_was_sent(env):
    """Is a prompt from the kernel (system, template, examples) the one trained on?"""
    prompt = {"system": "Name the genre.", "template": "Story: {text}",
              "examples": [ROWS[0]], "answer": "{label}", "max_new_tokens": 4}  # fmt: skip
    jobs = env.queue()
    job = jobs.submit("kim", ROWS, {**FAST, "prompt": prompt}, name="prompted")
    jobs.start()
    assert jobs.wait(job["id"], timeout=120)["state"] == "done"
    manifest = env.store.info("kim", "kim/prompted")["manifest"]
    assert (manifest["system"], manifest["template"]) == (
        "Name the genre.", "Story: {text}")  # fmt: skip
    assert manifest["examples"] == [ROWS[0]] and manifest["max_new_tokens"] == 4


def test_one_worker_takes_jobs_round_robin_between_students(env, monkeypatch):
    """Does lee's one job run second, not after all three of kim's?"""
    jobs = env.queue(workers=1)
    order = []
    real_save = env.store.save

    def save(owner, *rest):
        order.append(owner)
        return real_save(owner, *rest)

    monkeypatch.setattr(env.store, "save", save)
    steps1 = {"steps": 1, "batch_size": 2}
    kims = [jobs.submit("kim", ROWS, steps1) for _ in range(3)]
    lees = jobs.submit("lee", ROWS, steps1)
    assert [jobs.get(j["id"], "kim")["position"] for j in kims] == [1, 3, 4]
    assert jobs.get(lees["id"], "lee")["position"] == 2
    jobs.start()
    for job in kims + [lees]:
        assert jobs.wait(job["id"], timeout=120)["state"] == "done"
    assert order == ["kim", "lee", "kim", "kim"]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_more_steps_than_left_is_refused_at_submit(env, lang, monkeypatch):
    """Is the early check local mode's quota_too_big message, with nothing queued?"""
    monkeypatch.setenv("KIT_LANG", lang)
    jobs = env.queue()
    with pytest.raises(QuotaExceeded) as caught:
        jobs.submit("kim", ROWS, {"steps": 6})
    assert caught.value.key == "quota_too_big"
    assert "6" in str(caught.value) and "5" in str(caught.value)
    assert ("파인튜닝" in str(caught.value)) == (lang == "ko")
    assert jobs.jobs_of("kim") == [] and not list(env.folder.iterdir())


def test_quota_ending_mid_job_stops_it_with_the_steps_charged_exactly(env):
    """Another kernel spends the rest after step 2: stopped at 2, adapter saved?"""

    class OtherKernelSpends(quota.Quota):
        calls = 0

        def charge(self, **amounts):
            OtherKernelSpends.calls += 1
            if OtherKernelSpends.calls == 3:  # before step 3: the rest goes elsewhere
                rest = self.left("finetune_steps")
                with env.quota_for(self.student).charge(finetune_steps=rest):
                    pass
            return super().charge(**amounts)

    jobs = env.queue()
    plain = env.quota_for("kim")
    jobs.quota_for = lambda s: OtherKernelSpends(plain.policy, plain.ledger, s)
    job = jobs.submit("kim", ROWS, {"steps": 4, "batch_size": 2}, name="short")
    jobs.start()
    stopped = jobs.wait(job["id"], timeout=120)
    assert stopped["state"] == "stopped" and stopped["step"] == 2
    assert stopped["adapter"] == "kim/short" and len(stopped["losses"]) == 2
    assert stopped["error"]["key"] == "quota_exceeded"
    assert stopped["error"]["terms"] == ["kind"]
    assert env.store.info("kim", "kim/short")["manifest"]["steps"] == 2
    assert env.quota_for("kim").usage()["finetune_steps"] == 5  # 2 here, 3 elsewhere


def test_a_job_that_no_longer_fits_the_quota_fails_with_the_quota_message(env):
    """Two 4-step jobs on a 5-step quota: the second fails at its start, no adapter?"""
    jobs = env.queue(workers=1)
    first = jobs.submit("kim", ROWS, {"steps": 4, "batch_size": 2})
    second = jobs.submit("kim", ROWS, {"steps": 4, "batch_size": 2}, name="late")
    jobs.start()
    assert jobs.wait(first["id"], timeout=120)["state"] == "done"
    failed = jobs.wait(second["id"], timeout=120)
    assert failed["state"] == "failed" and failed["adapter"] is None
    assert failed["error"]["key"] == "quota_too_big"
    assert failed["error"]["fields"]["left"] == 1
    assert env.quota_for("kim").usage()["finetune_steps"] == 4


@pytest.mark.parametrize(
    ("rows", "settings", "name", "key"),
    [
        (ROWS, {"steps": 0}, None, "bad_number"),
        (ROWS, {"stepz": 2}, None, "job_bad_setting"),
        (ROWS, {"learning_rate": 1}, None, "bad_number"),
        (ROWS, {"alpha": 0}, None, "bad_number"),
        (ROWS, {"seed": -1}, None, "bad_number"),
        (ROWS, {"target_modules": ["attention"]}, None, "lora_unknown_module"),
        (ROWS, {"prompt": {"template": "{title}"}}, None, "prompt_field"),
        (ROWS, {"prompt": {"sytem": "x"}}, None, "job_bad_setting"),
        (ROWS, FAST, "../escape", "adapter_bad_name"),
        ([], FAST, None, "dataset_empty_list"),
        ([{"text": "no label"}], FAST, None, "dataset_missing_field"),
        (ROWS * 300, FAST, None, "finetune_data_size"),
        ("movie_genres", FAST, None, "bad_type"),  # never a file on the server
        ([{"text": "x " * 400, "label": "a"}], FAST, None, "finetune_row_too_long"),
    ],
)  # fmt: skip
def test_bad_requests_are_refused_at_submit_with_nothing_queued(env, rows, settings,
                                                                name, key):  # fmt: skip
    """Is each bad setting, row or name a SettingError at once, nothing queued?"""
    jobs = env.queue()
    with pytest.raises(SettingError) as caught:
        jobs.submit("kim", rows, settings, name=name)
    assert caught.value.key == key
    assert jobs.jobs_of("kim") == [] and not list(env.folder.iterdir())


def test_a_bad_row_is_named_the_same_way_in_both_languages(env):
    """Does a bad row's place read rows[n], not one language's words?"""
    with pytest.raises(SettingError) as caught:
        env.queue().submit("kim", ROWS + [{"text": 3, "label": "a"}], FAST)
    assert caught.value.fields["where"] == f"rows[{len(ROWS)}]"
    assert f"rows[{len(ROWS)}]" in caught.value.in_language("ko")


def test_jobs_left_by_a_restart_read_interrupted(env):
    """After a restart, are queued and running jobs interrupted, done ones kept?"""
    before = env.queue()
    queued = before.submit("kim", ROWS, FAST)
    running = before.submit("lee", ROWS, FAST)
    path = env.folder / f"{running['id']}.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "state": "running",
                                "step": 1}))  # fmt: skip
    (env.folder / "damaged.json").write_text("{half")
    after = env.queue()
    for job, owner in ((queued, "kim"), (running, "lee")):
        record = after.get(job["id"], owner)
        assert record["state"] == "interrupted"
        assert record["error"]["key"] == "job_interrupted"
        assert json.loads((env.folder / f"{job['id']}.json").read_text())["state"] == (
            "interrupted")  # fmt: skip
    assert after.get(running["id"], "lee")["error"]["fields"]["step"] == 1


def test_stop_interrupts_queued_jobs_and_refuses_new_ones(env):
    """Does stop() mark queued jobs interrupted and answer later submits with 503?"""
    jobs = env.queue()
    job = jobs.submit("kim", ROWS, FAST)
    jobs.stop()
    assert jobs.wait(job["id"], timeout=5)["state"] == "interrupted"
    with pytest.raises(kit.errors.ServiceUnavailable):
        jobs.submit("kim", ROWS, FAST)


def test_stop_interrupts_a_running_job_after_its_step(env):
    """Does a running job end as interrupted, with no adapter, when the service stops?"""
    training = threading.Event()

    class Signals(quota.Quota):
        def charge(self, **amounts):
            training.set()
            return super().charge(**amounts)

    plain = env.quota_for("kim")
    jobs = env.queue()
    jobs.quota_for = lambda s: Signals(plain.policy, plain.ledger, s)
    job = jobs.submit("kim", ROWS, {"steps": 5, "batch_size": 2}, name="cut")
    jobs.start()
    assert training.wait(60)
    jobs.stop(timeout=60)
    record = jobs.get(job["id"], "kim")
    assert record["state"] == "interrupted" and record["adapter"] is None
    assert record["error"]["key"] == "job_interrupted" and record["step"] < 5
    with pytest.raises(NotFound):
        env.store.info("kim", "kim/cut")


def test_only_the_student_or_a_teacher_sees_a_job(env):
    """Another student's job: 403; a teacher: yes; unknown or odd ids: 404."""
    jobs = env.queue()
    job = jobs.submit("kim", ROWS, FAST)
    with pytest.raises(NotAllowed):
        jobs.get(job["id"], "lee")
    assert jobs.get(job["id"], "teacher", teacher=True)["id"] == job["id"]
    for unknown in ("0123456789ab", "../../etc/passwd", None):
        with pytest.raises(NotFound):
            jobs.get(unknown, "kim")


def test_a_seed_means_the_same_while_jobs_and_sampling_run_together(env, tiny_model):
    """Same losses as local mode, and the same seeded samples, side by side?"""
    settings = {"steps": 12, "batch_size": 2, "seed": 3}
    with quota.exempt():
        expected_losses = kit.finetune(
            tiny_model, ROWS, progress=False, **settings
        ).losses
    row = tiny_model._chat_ids([{"role": "user", "content": "tell me a story"}])[0]
    sampled = generation_settings(8, 1.0, 1.0, 0, 11)
    batcher = Batcher(tiny_model)
    batcher.start()
    try:
        expected_text = str(batcher.submit("x", [row], sampled).result(60)[0])
        jobs = env.queue()
        big = {**DEFAULTS, "finetune_steps": 100}
        jobs.quota_for = lambda s: quota.Quota(Policy(limits=big), Ledger("sqlite://"),
                                               s, exempt=True)  # fmt: skip
        job = jobs.submit("kim", ROWS, settings)
        jobs.start()
        texts = []
        while True:  # sample at least once, and as long as the job trains
            texts.append(str(batcher.submit("lee", [row], sampled).result(60)[0]))
            if jobs.get(job["id"], "kim")["state"] not in ("queued", "running"):
                break
    finally:
        batcher.stop()
    assert jobs.wait(job["id"], 60)["losses"] == expected_losses
    assert texts and set(texts) == {expected_text}
