"""A few-shot prompt over many rows: the shared prefix kept in llama.cpp's cache or not.

Run: .venv/bin/python benchmarks/prefix.py [rows]   (default 20 rows per model)
Like lesson 05: finance_support, the task's system text, two worked examples per
label (8), greedy, max_new_tokens 6, through kit.evaluate. Each round times a run
that reads every prompt in full and a run that keeps the shared prefix; both start
with an empty cache. The answers of the two runs must be identical.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

_scratch = Path(tempfile.mkdtemp(prefix="bench-prefix-"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("KIT_QUOTA_DB", str(_scratch / "ledger.sqlite"))
os.environ.setdefault("KIT_QUOTA_FILE", str(_scratch / "quota.toml"))
(_scratch / "quota.toml").write_text(
    "[class]\ngenerations = 100000\ntokens = 10000000\nfinetune_steps = 100000\n"
)

import kit  # noqa: E402
from kit.engines.llama_runtime import BATCH, thread_counts  # noqa: E402

ROUNDS = 2
MODELS = {"smollm2-135m": ("en", "Answer with exactly one label from this list:"),
          "qwen2.5-coder-0.5b": ("ko", "다음 목록에서 레이블 하나만 골라 그대로 답하세요:")}  # fmt: skip


def few_shot(model: kit.Model, lang: str, rule: str, rows: int):
    """Return lesson 05's few-shot prompt and `rows` test rows."""
    data = kit.datasets.load("finance_support", lang=lang)
    train, test = data.split(test=0.25, seed=0)
    examples = []
    for label in data.labels:
        examples += [row for row in train if row["label"] == label][:2]
    random.Random(1).shuffle(examples)
    system = f"{data.task} {rule} {', '.join(data.labels)}."
    prompt = kit.Prompt(model, system=system, examples=examples, max_new_tokens=6)
    return prompt, test[:rows]


def timed(prompt: kit.Prompt, rows, reuse: bool) -> tuple[float, list[str], int]:
    """Evaluate from an empty cache; return seconds, answers and tokens kept."""
    runtime = prompt.model.engine.runtime
    runtime.reuse = reuse
    runtime.forget()
    before = runtime.reused
    started = time.perf_counter()
    report = kit.evaluate(prompt, rows, progress=False)
    seconds = time.perf_counter() - started
    runtime.reuse = True
    return seconds, [r["output"] for r in report.rows], runtime.reused - before


def bench(name: str, rows: int) -> None:
    """Print fresh against kept-prefix seconds for one model."""
    lang, rule = MODELS[name]
    model = kit.load_model(name)
    prompt, data = few_shot(model, lang, rule, rows)
    lengths = [len(model._chat_ids(prompt.messages(r))[0]) for r in data]
    timed(prompt, data[:2], reuse=True)  # warm-up
    fresh, kept, answers, saved = [], [], set(), 0
    for _ in range(ROUNDS):  # interleaved: a busy neighbour slows both alike
        seconds, out, _ = timed(prompt, data, reuse=False)
        fresh.append(seconds)
        answers.add(tuple(out))
        seconds, out, saved = timed(prompt, data, reuse=True)
        kept.append(seconds)
        answers.add(tuple(out))
    f, k = statistics.median(fresh), statistics.median(kept)
    print(f"\n{name} · {len(data)} rows · prompt {min(lengths)}-{max(lengths)} tokens "
          f"(mean {statistics.mean(lengths):.0f}) · BATCH {BATCH} · "
          f"threads {thread_counts()}")  # fmt: skip
    print(f"  every prompt read in full   {f:7.1f} s  (runs: "
          f"{', '.join(f'{s:.1f}' for s in fresh)})")  # fmt: skip
    print(f"  shared prefix kept          {k:7.1f} s  (runs: "
          f"{', '.join(f'{s:.1f}' for s in kept)})")  # fmt: skip
    print(f"  speed-up {f / k:.2f}x · prompt tokens kept {saved} of {sum(lengths)} "
          f"({saved / sum(lengths):.0%})")  # fmt: skip
    print(f"  answers identical in all {2 * ROUNDS} runs: {len(answers) == 1}")
    if len(answers) != 1:
        sys.exit(f"{name}: the kept prefix changed an answer")


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    for model_name in MODELS:
        bench(model_name, count)
