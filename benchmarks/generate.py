"""Greedy tokens/s: Model.chat against plain model.generate on the same model, same run.

Run: .venv/bin/python benchmarks/generate.py
Target: the kit (chat template, quota ledger, validation) is not slower than plain.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("KIT_QUOTA_DB", os.path.join(tempfile.mkdtemp(), "bench.sqlite"))
os.environ.setdefault("KIT_QUOTA_FILE", os.path.join(tempfile.mkdtemp(), "none.toml"))

import torch  # noqa: E402

import kit  # noqa: E402

# Long enough an answer that both paths stop at the token limit, not at end-of-text.
PROMPT = "Write a short story about a robot who learns to paint."
NEW_TOKENS = 64
ROUNDS = 5


def plain(model: kit.Model) -> tuple[float, int]:
    """Time transformers' own generate on the same weights and template."""
    ids = model.tokenizer.apply_chat_template(
        [{"role": "user", "content": PROMPT}], add_generation_prompt=True,
        return_dict=True, return_tensors="pt",
    )  # fmt: skip
    started = time.perf_counter()
    with torch.inference_mode():
        out = model.hf.generate(**ids, max_new_tokens=NEW_TOKENS, do_sample=False)
    return time.perf_counter() - started, out.shape[1] - ids["input_ids"].shape[1]


def through_kit(model: kit.Model) -> tuple[float, int]:
    """Time Model.chat end to end (validation, quota reserve/settle, decoding)."""
    started = time.perf_counter()
    reply = model.chat(PROMPT, max_new_tokens=NEW_TOKENS, stream=False)
    return time.perf_counter() - started, reply.tokens


def main() -> None:
    model = kit.load_model()
    print(f"{model} · {torch.get_num_threads()} threads · {NEW_TOKENS} new tokens, "
          f"greedy, {ROUNDS} rounds, interleaved\n")  # fmt: skip
    plain(model)  # warm-up both paths once
    results: dict[str, list[float]] = {"plain model.generate": [], "kit Model.chat": []}
    for _ in range(ROUNDS):
        for label, run in (
            ("plain model.generate", plain),
            ("kit Model.chat", through_kit),
        ):
            seconds, tokens = run(model)
            results[label].append(tokens / seconds)
    for label, rates in results.items():
        print(f"{label:22} median {statistics.median(rates):6.1f} tok/s  "
              f"(min {min(rates):.1f}, max {max(rates):.1f})")  # fmt: skip
    ratio = statistics.median(results["kit Model.chat"]) / statistics.median(
        results["plain model.generate"])  # fmt: skip
    print(f"\nkit / plain = {ratio:.2f} (target >= ~1.0 within noise)")


if __name__ == "__main__":
    main()
