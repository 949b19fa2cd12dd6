"""Batcher: fair, batched generation on one model, for many students at once."""

from __future__ import annotations

import threading

import pytest

import kit
from kit import quota
from kit.checks import generation_settings
from kit.errors import QuotaExceeded, ServiceUnavailable, SettingError
from kit.ledger.policy import Policy
from kit.ledger.store import Ledger
from kit.service.batching import Batcher, TooBusy

GREEDY = generation_settings(6, 0.0, 1.0, 0, None)
SAMPLED = generation_settings(6, 1.0, 0.9, 50, 7)


def ids(model: kit.Model, text: str):
    return model._chat_ids([{"role": "user", "content": text}])[0]


def local(model: kit.Model, rows, settings) -> list[str]:
    """What local mode answers for these rows (uncharged; never through a Spy)."""
    exempt = quota.Quota(Policy(), Ledger("sqlite://"), "t", exempt=True)
    with quota.acting_as(exempt):
        replies = type(model)._generate_batch(model, rows, settings, stream=False)
    return [str(r) for r in replies]


class Spy:
    """Wraps a model's _generate_batch: records each batch, can block or fail one."""

    def __init__(self, model, monkeypatch, *, block_first=False, fail=False):
        self.batches: list[list] = []
        self.settings: list[dict] = []
        self.entered = threading.Event()
        self.go_on = threading.Event()
        if not block_first:
            self.go_on.set()
        real = model._generate_batch

        def generate(rows, settings, stream=False, abort=None):
            self.batches.append(list(rows))
            self.settings.append(dict(settings))
            self.entered.set()
            self.go_on.wait(30)
            if fail:
                raise RuntimeError("boom")
            return real(rows, settings, stream=stream, abort=abort)

        monkeypatch.setattr(model, "_generate_batch", generate)

    def batch_of(self, row) -> int:
        return next(i for i, b in enumerate(self.batches) if any(r is row for r in b))


@pytest.fixture()
def batcher(tiny_model):
    made = []

    def make(**kw) -> Batcher:
        made.append(Batcher(tiny_model, **kw))
        return made[-1]

    yield make
    for b in made:
        b.stop(timeout=10)


def test_a_student_with_many_rows_cannot_starve_one_with_a_single_row(
    tiny_model, batcher, monkeypatch
):
    """Is the second student's row in the first batch, taken round-robin?"""
    spy = Spy(tiny_model, monkeypatch)
    b = batcher(max_batch=4)
    many = [ids(tiny_model, f"question {i}") for i in range(10)]
    one = ids(tiny_model, "my only question")
    first = b.submit("kim", many, GREEDY)
    second = b.submit("lee", [one], GREEDY)
    assert b.stats()["queued"] == 11
    b.start()
    replies = first.result(30)
    assert [len(x) for x in second.result(30)] == [
        len(local(tiny_model, [one], GREEDY)[0])
    ]
    assert spy.batch_of(one) == 0
    assert [len(batch) for batch in spy.batches] == [4, 4, 3]
    assert len(replies) == 10 and all(isinstance(r, kit.results.Reply) for r in replies)
    assert [r.prompt_tokens for r in replies] == [int(r.shape[0]) for r in many]
    stats = b.stats()
    assert stats == {"batches": 3, "rows": 11, "largest_batch": 4, "queued": 0}


def test_turns_carry_on_from_one_batch_to_the_next(tiny_model, batcher, monkeypatch):
    """With batches of 2, do three students take turns A B, C A, B C, ...?"""
    spy = Spy(tiny_model, monkeypatch)
    b = batcher(max_batch=2)
    owner = {}
    futures = []
    for student in "ABC":
        rows = [ids(tiny_model, f"{student} asks {i}") for i in range(3)]
        owner.update({id(row): student for row in rows})
        futures.append(b.submit(student, rows, GREEDY))
    b.start()
    for future in futures:
        future.result(30)
    turns = ["".join(owner[id(row)] for row in batch) for batch in spy.batches]
    assert turns == ["AB", "CA", "BC", "AB", "C"]


def test_too_many_requests_in_flight_is_a_429_for_that_student_only(
    tiny_model, batcher
):
    """Does a fifth request get TooBusy (a QuotaExceeded), others still queue?"""
    b = batcher(per_student=4)
    row = ids(tiny_model, "hello")
    futures = [b.submit("kim", [row], GREEDY) for _ in range(4)]
    with pytest.raises(TooBusy) as caught:
        b.submit("kim", [row], GREEDY)
    assert isinstance(caught.value, QuotaExceeded) and "4" in str(caught.value)
    futures.append(b.submit("lee", [row], GREEDY))
    b.start()
    for future in futures:
        future.result(30)
    b.submit("kim", [row], GREEDY).result(30)  # answered requests free their places


def test_only_compatible_rows_share_a_batch(tiny_model, batcher, monkeypatch):
    """Do rows with other lengths, temperature or model go into other batches?"""
    spy = Spy(tiny_model, monkeypatch)
    other = kit.Model(tiny_model.hf, tiny_model.tokenizer, name="other")
    b = batcher()
    row = ids(tiny_model, "hello")
    asks = {
        "a": b.submit("a", [row], GREEDY),
        "b": b.submit("b", [row], {**GREEDY, "max_new_tokens": 3}),
        "c": b.submit("c", [row], GREEDY),
        "d": b.submit("d", [row], {**GREEDY, "temperature": 0.5, "seed": None}),
        "e": b.submit("e", [row], GREEDY, model=other),
        "f": b.submit("f", [row], {**GREEDY, "seed": 3, "top_k": 5}),  # greedy: same
    }
    on_other = Spy(other, monkeypatch)
    b.start()
    for future in asks.values():
        future.result(30)
    assert sorted(len(batch) for batch in spy.batches) == [1, 1, 3]
    assert [len(batch) for batch in on_other.batches] == [1]
    assert spy.settings[0]["max_new_tokens"] == 6 and len(spy.batches[0]) == 3
    assert spy.settings[0]["seed"] is None  # greedy batches touch no random state
    assert asks["b"].result()[0].tokens <= 3


def test_a_seeded_sampled_request_runs_alone_and_repeats(
    tiny_model, batcher, monkeypatch
):
    """Same seed, same text as local mode, even with other students' rows queued?"""
    spy = Spy(tiny_model, monkeypatch)
    b = batcher()
    rows = [ids(tiny_model, "tell me a story"), ids(tiny_model, "a poem, please")]
    expected = local(tiny_model, rows, SAMPLED), local(tiny_model, [rows[0]], SAMPLED)
    unseeded = {**SAMPLED, "seed": None}
    others = [b.submit(s, [rows[0]], unseeded) for s in ("a", "b")]
    seeded = b.submit("kim", rows, SAMPLED)
    alone = b.submit("lee", [rows[0]], SAMPLED)
    b.start()
    for future in others:
        future.result(30)
    texts = [str(r) for r in seeded.result(30)]
    assert texts == expected[0]  # one generate call, as kit's chat_batch makes
    assert [str(r) for r in alone.result(30)] == expected[1]
    sizes = sorted(len(batch) for batch in spy.batches)
    assert sizes == [1, 2, 2]  # the two seeded requests alone, the unseeded together


def test_a_failing_batch_fails_only_its_requests(tiny_model, batcher, monkeypatch):
    """Does an exception reach that batch's futures while the worker goes on?"""
    broken = kit.Model(tiny_model.hf, tiny_model.tokenizer, name="broken")
    Spy(broken, monkeypatch, fail=True)
    b = batcher()
    row = ids(tiny_model, "hello")
    bad = b.submit("kim", [row], GREEDY, model=broken)
    good = b.submit("lee", [row], GREEDY)
    b.start()
    with pytest.raises(RuntimeError, match="boom"):
        bad.result(30)
    assert good.result(30)[0] == local(tiny_model, [row], GREEDY)[0]
    assert b.submit("kim", [row], GREEDY).result(30)


def test_a_prompt_too_long_is_refused_at_submit(tiny_model, batcher):
    """Is an over-long prompt a SettingError for its sender, never a failed batch?"""
    b = batcher()
    too_long = ids(tiny_model, "word " * 300)
    with pytest.raises(SettingError) as caught:
        b.submit("kim", [too_long], GREEDY)
    assert caught.value.key == "prompt_too_long"


def test_stop_fails_queued_requests_and_finishes_the_running_batch(
    tiny_model, batcher, monkeypatch
):
    """Does stop() answer queued futures with service_stopping, without hanging?"""
    spy = Spy(tiny_model, monkeypatch, block_first=True)
    b = batcher()
    row = ids(tiny_model, "hello")
    running = b.submit("kim", [row], GREEDY)
    b.start()
    assert spy.entered.wait(30)
    queued = b.submit("lee", [row], GREEDY)
    stopper = threading.Thread(target=b.stop, kwargs={"timeout": 30})
    stopper.start()
    error = queued.exception(30)
    assert isinstance(error, ServiceUnavailable) and error.key == "service_stopping"
    spy.go_on.set()
    stopper.join(30)
    assert not stopper.is_alive()
    assert running.result(30)[0] == local(tiny_model, [row], GREEDY)[0]
    with pytest.raises(ServiceUnavailable):
        b.submit("kim", [row], GREEDY)
    assert len(spy.batches) == 1


def test_serial_mode_answers_one_row_at_a_time(tiny_model, batcher, monkeypatch):
    """Does serial=True (the benchmark's baseline) run every row on its own?"""
    spy = Spy(tiny_model, monkeypatch)
    b = batcher(serial=True)
    rows = [ids(tiny_model, f"q{i}") for i in range(3)]
    future = b.submit("kim", rows, GREEDY)
    b.start()
    assert len(future.result(30)) == 3
    assert [len(batch) for batch in spy.batches] == [1, 1, 1]


@pytest.mark.real_model
def test_batched_greedy_text_equals_solo_on_the_real_model(real_model):
    """Do three students batched together get exactly the text each gets alone?"""
    questions = [
        "What is the capital of France?",
        "Name three colours.",
        "Write one sentence about a cat who loves to sleep all day.",
    ]
    settings = generation_settings(12, 0.0, 1.0, 0, None)
    rows = [ids(real_model, q) for q in questions]
    b = Batcher(real_model)
    try:
        futures = [b.submit(f"s{i}", [row], settings) for i, row in enumerate(rows)]
        b.start()
        batched = [str(f.result(120)[0]) for f in futures]
    finally:
        b.stop()
    assert b.stats()["largest_batch"] == 3
    assert batched == [local(real_model, [row], settings)[0] for row in rows]


@pytest.mark.real_model
def test_stop_cuts_a_long_generation_short_and_fails_it_clearly(real_model):
    batcher = Batcher(real_model, window=0)
    batcher.start()
    long = generation_settings(3000, 0.0, 1.0, 0, None)  # minutes of work on a CPU
    future = batcher.submit("ann", [ids(real_model, "Tell me a long story.")], long)
    for _ in range(100):  # until the worker has taken the row and is generating
        if batcher.stats()["queued"] == 0:
            break
        threading.Event().wait(0.05)
    assert batcher.stats()["queued"] == 0
    batcher.stop(timeout=30, grace=0.2)
    assert not batcher._thread.is_alive()  # the running batch was cut short
    with pytest.raises(ServiceUnavailable):
        future.result(timeout=1)  # failed, not answered with a cut-off text
