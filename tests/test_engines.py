"""Engines: llama.cpp decodes what transformers would, the same text every run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import kit
from kit.engines.base import Sampling
from kit.engines.choice import pick_engine
from kit.engines.llama_engine import LlamaCppEngine, LlamaLoraEngine, available
from kit.engines.torch_engine import TorchEngine
from kit.errors import SettingError

needs_llama = pytest.mark.skipif(not available(), reason="llama-cpp-python missing")
PROMPTS = [
    "What is the capital of France?",
    "Write one sentence about the sea.",
    "List three colours.",
    "대한민국의 수도는 어디인가요?",
]
# Next-token probabilities, llama.cpp on the float16 copy against transformers on the
# float32 weights: measured at most 0.0008 apart on any token of these prompts (the
# Q4_1 file itself: 0.055, enough to change a greedy answer). The bound leaves room.
PROB_TOLERANCE = 0.005


@pytest.fixture(scope="module")
def exact_model(real_model) -> kit.Model:
    """The bundled weights of `real_model`, generating with transformers."""
    engine = TorchEngine(real_model.hf, real_model.tokenizer.pad_token_id)
    return kit.Model(real_model.hf, real_model.tokenizer, name="exact", engine=engine)


@needs_llama
def test_the_bundled_model_decodes_with_llama_cpp(real_model):
    assert isinstance(real_model.engine, LlamaCppEngine)
    assert "llama.cpp" in repr(real_model)
    assert real_model.chat("What is the capital of France?").startswith(
        "The capital of France is Paris"
    )


@needs_llama
def test_greedy_text_is_the_same_in_another_process(real_model):
    here = [real_model.chat(p, max_new_tokens=24) for p in PROMPTS]
    script = (
        "import json, sys, kit\n"
        "m = kit.load_model()\n"
        "print(json.dumps([m.chat(p, max_new_tokens=24) "
        "for p in json.loads(sys.argv[1])]))\n"
    )
    env = {**os.environ, "KIT_THREADS": "1"}  # another thread count, the same text
    done = subprocess.run([sys.executable, "-c", script, json.dumps(PROMPTS)],
                          capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == here


@needs_llama
def test_probabilities_match_the_training_engine(real_model, exact_model):
    for text in ["The capital of France is", "1, 2, 3,", "오늘 날씨가", "Once upon a"]:
        ids = real_model.tokenizer(text).input_ids
        fast = torch.softmax(real_model.engine.next_token_logits(ids), -1)
        exact = torch.softmax(exact_model.engine.next_token_logits(ids), -1)
        assert fast.argmax() == exact.argmax(), text
        assert (fast - exact).abs().max() <= PROB_TOLERANCE, text
    shown = real_model.next_token_probs("The capital of France is", top=3)
    assert shown.ids == exact_model.next_token_probs("The capital of France is",
                                                      top=3).ids  # fmt: skip


@needs_llama
def test_greedy_answers_agree_with_the_training_engine(real_model, exact_model):
    fast = [str(r) for r in real_model.chat_batch(PROMPTS[:3], max_new_tokens=16)]
    exact = [str(r) for r in exact_model.chat_batch(PROMPTS[:3], max_new_tokens=16)]
    # The first words agree: quantized arithmetic may part ways late in a long answer.
    assert [f.split()[:3] for f in fast] == [e.split()[:3] for e in exact]


@needs_llama
def test_batch_rows_give_the_text_each_gives_alone(real_model):
    together = [str(r) for r in real_model.chat_batch(PROMPTS, max_new_tokens=12)]
    alone = [real_model.chat(p, max_new_tokens=12) for p in PROMPTS]
    assert together == alone


@needs_llama
def test_streaming_sends_the_answer_piece_by_piece(real_model):
    pieces: list[str] = []
    reply = real_model.chat("Name a fruit.", max_new_tokens=12, stream=pieces.append)
    assert len(pieces) >= 2 and "".join(pieces).strip() == reply


@needs_llama
def test_seeded_sampling_repeats_and_seeds_differ(real_model):
    def draw(seed):
        return real_model.chat("Tell me a word.", temperature=1.5, seed=seed,
                               max_new_tokens=10)  # fmt: skip

    assert draw(3) == draw(3)
    assert len({draw(s) for s in range(6)}) > 1


@needs_llama
def test_abort_stops_a_long_answer(real_model):
    import threading

    engine, stop = real_model.engine, threading.Event()
    stop.set()
    ids = real_model.tokenizer("Count: 1, 2,").input_ids
    out = engine.generate([ids], Sampling(max_new_tokens=50), set(), abort=stop)
    assert len(out[0]) == 1


def test_the_engine_setting_is_checked(monkeypatch, tiny_folder):
    with pytest.raises(SettingError, match="llama.cpp, transformers"):
        kit.load_model(engine="vllm")
    monkeypatch.setenv("KIT_ENGINE", "fastest")
    with pytest.raises(SettingError, match="fastest"):
        kit.load_model()
    monkeypatch.setenv("KIT_ENGINE", "llama.cpp")
    kit.set_language("ko")
    try:  # a model loaded from safetensors has no GGUF file for llama.cpp
        with pytest.raises(SettingError, match="GGUF"):
            kit.load_model(str(tiny_folder))
    finally:
        kit.set_language(None)


def test_transformers_is_kept_for_models_without_gguf(tiny_model, real_model):
    assert isinstance(tiny_model.engine, TorchEngine)
    forced = pick_engine(real_model.hf, 0, gguf=None, device=torch.device("cpu"),
                         name="transformers")  # fmt: skip
    assert isinstance(forced, TorchEngine)


@needs_llama
def test_an_adapter_answers_on_llama_cpp_as_on_the_training_engine(
    real_model, exact_model, tmp_path, monkeypatch
):
    from kit.adapters import Adapter

    monkeypatch.setenv("KIT_CACHE_DIR", str(tmp_path / "cache"))
    train, test = kit.datasets.load("movie_genres", lang="en").split(test=0.25)
    adapter = kit.finetune(real_model, train, steps=30, progress=False, plot=False)
    assert isinstance(adapter.engine, LlamaLoraEngine)
    twin = Adapter(adapter.hf, exact_model, manifest=dict(adapter.manifest))
    assert isinstance(twin.engine, TorchEngine)
    fast = kit.evaluate(adapter, test, progress=False)
    exact = kit.evaluate(twin, test, progress=False)
    same = [f["predicted"] == e["predicted"] for f, e in zip(fast.rows, exact.rows)]
    # Measured: 20 of 20 test rows give the same label on both engines.
    assert sum(same) / len(same) >= 0.9, (fast.rows, exact.rows)
    assert abs(fast.score - exact.score) <= 0.1
    files = list((tmp_path / "cache" / "adapters-gguf").glob("*.gguf"))
    assert len(files) == 1  # converted once, then reused for every batch


@needs_llama
def test_an_adapter_is_converted_again_when_its_weights_change(
    real_model, tmp_path, monkeypatch
):
    monkeypatch.setenv("KIT_CACHE_DIR", str(tmp_path / "cache"))
    adapter = kit.finetune(real_model, kit.datasets.load("movie_genres"), steps=2,
                           progress=False, plot=False)  # fmt: skip
    adapter.chat("A ghost in the attic.", max_new_tokens=4)  # first conversion
    with torch.no_grad():  # B = 0: the adapter adds nothing, the base model answers
        for name, weight in adapter.hf.named_parameters():
            if "lora_B" in name:
                weight.zero_()
    after = adapter.chat("A ghost in the attic.", max_new_tokens=4)
    base = real_model.chat("A ghost in the attic.", max_new_tokens=4)
    assert after == base
    assert len(list((tmp_path / "cache" / "adapters-gguf").glob("*.gguf"))) == 2


@needs_llama
def test_lora_llama_cpp_cannot_express_runs_on_transformers(real_model, tmp_path,
                                                             monkeypatch):  # fmt: skip
    monkeypatch.setenv("KIT_CACHE_DIR", str(tmp_path / "cache"))
    from peft import LoraConfig, get_peft_model

    from kit.adapters import shared_copy

    config = LoraConfig(r=2, target_modules=["embed_tokens", "q_proj"])
    peft_model = get_peft_model(shared_copy(real_model.hf), config)
    engine = real_model.engine.with_lora(peft_model)
    ids = real_model.tokenizer("Hello").input_ids
    assert engine.generate([ids], Sampling(max_new_tokens=3), set())
    assert isinstance(engine.current(), TorchEngine)


def test_a_read_only_cache_converts_into_a_private_temp_folder(tmp_path, monkeypatch):
    import tempfile

    from kit.engines import llama_engine

    monkeypatch.setenv("KIT_CACHE_DIR", str(tmp_path / "shared"))
    assert llama_engine.adapter_folder() == tmp_path / "shared" / "adapters-gguf"
    monkeypatch.setattr(llama_engine, "is_writable", lambda folder: False)
    folder = llama_engine.adapter_folder()
    assert folder.parent == Path(tempfile.gettempdir())
    assert str(os.getuid()) in folder.name  # one per user: no one else's files


@needs_llama
def test_a_seed_samples_what_the_training_engine_samples(real_model, exact_model):
    def draws(model):
        return [str(model.chat("Give me a name for a cat.", temperature=t, seed=s,
                               max_new_tokens=12)) for t in (0.7, 1.2) for s in (1, 2)]  # fmt: skip

    fast, exact = draws(real_model), draws(exact_model)
    # transformers' warpers and torch's generator pick the token: measured 15 of 15
    # samples equal; a near-tie may part them, so one in four may differ.
    assert sum(f == e for f, e in zip(fast, exact)) >= 3, (fast, exact)


@needs_llama
def test_one_seed_gives_a_batch_different_samples(real_model):
    def batch():
        return [str(r) for r in real_model.chat_batch(["Name an animal."] * 6,
                temperature=1.2, seed=1, max_new_tokens=4)]  # fmt: skip

    first = batch()
    assert len(set(first)) > 1  # not six copies of one draw
    assert batch() == first


def test_kit_doctor_names_the_engine_and_a_misspelt_one(monkeypatch):
    from kit.cli.doctor import report

    text, _ = report()
    assert "Engine" in text or "엔진" in text
    expected = "llama.cpp" if available() else "llama-cpp-python"
    assert expected in text
    monkeypatch.setenv("KIT_ENGINE", "turbo")
    text, problems = report()
    assert problems >= 1 and "turbo" in text


@needs_llama
def test_the_context_grows_for_a_long_prompt(real_model):
    runtime = real_model.engine.runtime
    text = "The sea is blue and the sky is wide. " * 150  # ~1500 tokens
    ids = real_model.tokenizer(text).input_ids
    assert len(ids) > runtime.llm.n_ctx()  # longer than the context it started with
    fast = torch.softmax(real_model.engine.next_token_logits(ids), -1)
    assert runtime.llm.n_ctx() >= len(ids)
    exact = TorchEngine(real_model.hf, 0).next_token_logits(ids).softmax(-1)
    assert (fast - exact).abs().max() <= PROB_TOLERANCE
    short = real_model.chat("What is the capital of France?")
    assert short.startswith("The capital of France is Paris")  # still right after


KOREAN = "qwen2.5-coder-0.5b"


def _korean_installed() -> bool:
    from kit.models import packaged

    return not packaged.missing_parts(packaged.PACKAGED[KOREAN])


@pytest.fixture(scope="module")
def korean_model() -> kit.Model:
    """Qwen2.5-Coder-0.5B, the Korean lessons' model, when its parts are installed."""
    if not _korean_installed():
        pytest.skip("Korean model parts not installed")
    return kit.load_model(KOREAN)


def _decode(runtime, ids: list[int], steps: int = 3) -> tuple[torch.Tensor, list[int]]:
    """Read `ids`, then decode greedily: every row of logits and the tokens picked."""
    runtime.start(ids)
    rows, tokens = [runtime.last_logits()], []
    for _ in range(steps):
        tokens.append(int(rows[-1].argmax()))
        runtime.step(tokens[-1])
        rows.append(runtime.last_logits())
    return torch.stack(rows), tokens


def _same_as_fresh(runtime, ids: list[int], kept: int) -> torch.Tensor:
    """Read `ids` keeping `kept` cached cells; assert a reset() read gives every bit."""
    before = runtime.reused
    reused = _decode(runtime, ids)
    assert runtime.reused - before == kept, (len(ids), runtime.reused - before)
    runtime.reuse = False  # the read as it was before the cache: reset(), all of ids
    try:
        fresh = _decode(runtime, ids)
    finally:
        runtime.reuse = True
    assert torch.equal(reused[0], fresh[0]), (len(ids), kept)  # prompt and each step
    assert reused[1] == fresh[1]  # the greedy tokens
    return reused[0][0]


@needs_llama
@pytest.mark.parametrize("which", ["real_model", "korean_model"])
def test_a_shared_prefix_is_read_once_and_gives_the_same_bits(
    which, request, tmp_path, monkeypatch
):
    from peft import LoraConfig, get_peft_model

    from kit.adapters import shared_copy
    from kit.engines import llama_runtime
    from kit.engines.llama_runtime import BATCH, Runtime

    assert BATCH == 128  # the prefix lengths below sit around 128 and 256
    model = request.getfixturevalue(which)
    monkeypatch.setattr(llama_runtime, "FIRST_CONTEXT", 256)  # grows once, below
    runtime = Runtime(model.engine.runtime.path, 8192)  # a private context
    base = model.tokenizer("The sea is blue and the sky is wide today. " * 40).input_ids
    tails = [model.tokenizer(f" Question {n}: why {w}?").input_ids
             for n, w in enumerate("ab cd ef gh ij kl mn op qr st".split())]  # fmt: skip

    def prompt(shared: int, tail: int) -> list[int]:
        return base[:shared] + tails[tail]

    try:
        runtime.use_adapter(None)
        _same_as_fresh(runtime, prompt(100, 0), kept=0)  # nothing read before
        _same_as_fresh(runtime, prompt(200, 1), kept=0)  # 100 shared: under a chunk
        runtime.fit(340)  # the context grows to 512: a new context keeps nothing
        assert runtime.llm.n_ctx() == 512
        _same_as_fresh(runtime, prompt(320, 2), kept=0)
        _same_as_fresh(runtime, base[:300], kept=256)  # a prefix of the last prompt
        _same_as_fresh(runtime, base[:256], kept=128)  # at least one token is read
        _same_as_fresh(runtime, prompt(256, 3), kept=256)
        _same_as_fresh(runtime, prompt(200, 4), kept=128)
        _same_as_fresh(runtime, prompt(128, 5), kept=128)
        _same_as_fresh(runtime, prompt(128, 5), kept=128)  # the same prompt again
        # An adapter: cells computed with other weights are read again, both ways.
        monkeypatch.setenv("KIT_CACHE_DIR", str(tmp_path / "cache"))
        torch.manual_seed(0)
        lora = get_peft_model(shared_copy(model.hf), LoraConfig(
            r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))  # fmt: skip
        adapter = model.engine.with_lora(lora).current().adapter
        runtime.use_adapter(adapter)
        _same_as_fresh(runtime, prompt(300, 6), kept=0)  # 128 shared, other weights
        with_adapter = _same_as_fresh(runtime, prompt(300, 7), kept=256)
        runtime.use_adapter(adapter)  # applied again, unchanged: the cells stay
        _same_as_fresh(runtime, prompt(300, 7), kept=256)
        runtime.use_adapter(None)
        without = _same_as_fresh(runtime, prompt(300, 7), kept=0)
        assert not torch.equal(with_adapter, without)  # so keeping them would show
    finally:
        runtime.llm.close()


@needs_llama
def test_a_few_shot_prompt_gives_the_same_answers_with_its_prefix_kept(real_model):
    data = kit.datasets.load("finance_support", lang="en")
    train, test = data.split(test=0.25, seed=0)
    examples = [next(r for r in train if r["label"] == label) for label in data.labels]
    prompt = kit.Prompt(real_model, system=f"{data.task} Answer with one label.",
                        examples=examples, max_new_tokens=6)  # fmt: skip
    runtime = real_model.engine.runtime
    before = runtime.reused
    kept = [str(r) for r in prompt.batch(test[:4])]
    assert runtime.reused - before >= 3 * 128  # the rows after the first kept cells
    runtime.reuse = False
    try:
        fresh = [str(r) for r in prompt.batch(test[:4])]
    finally:
        runtime.reuse = True
    assert kept == fresh
