"""Fine-tuning: base vs LoRA score on each shipped set's held-out part, and speed.

Run: .venv/bin/python benchmarks/finetune.py [--steps 60] [--lang en ko] [--sets ...]
     [--model smollm2-135m qwen2.5-coder-0.5b] [--speed-only]
Several --model names print their rows side by side, on the same splits, in one run.
Targets: each set reaches >= 90% held-out accuracy within <= 90 s of training on 2
cores; kit.finetune's steps/s is not below a plain peft + transformers loop's.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("KIT_QUOTA_DB", os.path.join(tempfile.mkdtemp(), "bench.sqlite"))
os.environ.setdefault("KIT_QUOTA_FILE", os.path.join(tempfile.mkdtemp(), "none.toml"))

import torch  # noqa: E402

import kit  # noqa: E402
from kit.adapters import shared_copy  # noqa: E402
from kit.finetune import _batches, target_modules_for, training_examples  # noqa: E402
from kit.prompt import training_prompt  # noqa: E402

SPEED_STEPS = 8


def plain_steps_per_second(model: kit.Model, train, steps: int) -> float:
    """Time the textbook loop: peft LoRA, AdamW, the same batches, no kit around it."""
    from peft import LoraConfig, get_peft_model

    prompt = training_prompt(model, train.labels, train.lang)
    examples = training_examples(model, prompt, list(train))
    config = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05, task_type="CAUSAL_LM",
                        target_modules=target_modules_for(model))  # fmt: skip
    peft_model = get_peft_model(shared_copy(model.hf), config)
    optimiser = torch.optim.AdamW(
        [p for p in peft_model.parameters() if p.requires_grad], lr=1e-3
    )
    batches = _batches(examples, 8, 0, model.tokenizer.pad_token_id)
    peft_model.train()
    started = time.perf_counter()
    for _ in range(steps):
        ids, mask, labels = next(batches)
        peft_model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
        optimiser.step()
        optimiser.zero_grad()
    return steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--lang", nargs="+", default=["en", "ko"])
    parser.add_argument("--sets", nargs="+", default=kit.datasets.available())
    parser.add_argument("--model", nargs="+", default=["smollm2-135m"],
                        help="friendly names; each gets its rows on the same splits")  # fmt: skip
    parser.add_argument("--speed-only", action="store_true")
    args = parser.parse_args()
    models = [kit.load_model(name) for name in args.model]
    print(f"{', '.join(map(str, models))} · {torch.get_num_threads()} threads · "
          f"{args.steps} steps, LoRA r=8 on all linear layers, batch 8, held-out 25%\n")  # fmt: skip
    if args.speed_only:
        args.lang = []
    # "loss" is the last training loss: near 0 with a low held-out score means the
    # adapter learnt the training rows by heart without generalising.
    header = (f"{'data set':28} {'model':20} {'base':>6} {'LoRA':>6} {'loss':>6} "
              f"{'train s':>8} {'target':>8}")  # fmt: skip
    print(header)
    first_train = None
    for lang in args.lang:
        for name in args.sets:
            data = kit.datasets.load(name, lang=lang)
            train, test = data.split(test=0.25, seed=0)
            first_train = first_train or train
            for model in models:
                row(model, name, lang, train, test, args.steps)
    if first_train is None:  # --speed-only
        first_train = kit.datasets.load(args.sets[0], lang="en").split(0.25, seed=0)[0]
    speed(models[0], first_train)


def row(model: kit.Model, name: str, lang: str, train, test, steps: int) -> None:
    """Print one model's base and LoRA held-out score on one set, and its train time."""
    base = kit.evaluate(model, test, progress=False)
    adapter = kit.finetune(model, train, steps=steps, progress=False)
    after = kit.evaluate(adapter, test, progress=False)
    seconds = adapter.manifest["train_seconds"]
    ok = "✓" if after.score >= 0.9 and seconds <= 90 else "✗"
    print(f"{name + ' (' + lang + ')':28} {model.name:20} {base.score:6.0%} "
          f"{after.score:6.0%} {adapter.losses[-1]:6.3f} {seconds:8.1f} {ok:>8}",
          flush=True)  # fmt: skip


def speed(model: kit.Model, train) -> None:
    """Print kit.finetune's steps/s (as shipped, and in plain fp32) against plain peft."""
    rates = {}
    for mixed in (None, False):  # the training loop only, as the plain loop is timed
        adapter = kit.finetune(model, train, steps=SPEED_STEPS, mixed_precision=mixed,
                               progress=False)  # fmt: skip
        rates[mixed] = SPEED_STEPS / adapter.manifest["train_seconds"]
    plain = plain_steps_per_second(model, train, SPEED_STEPS)
    print(f"\nsteps/s on {train.name} ({SPEED_STEPS} steps, batch 8): plain peft loop "
          f"(fp32) {plain:.2f} · kit.finetune as shipped (bf16 autocast where the "
          f"CPU has it) {rates[None]:.2f} = {rates[None] / plain:.2f}x · kit.finetune "
          f"fp32 {rates[False]:.2f} = {rates[False] / plain:.2f}x (target >= ~1.0)")  # fmt: skip


if __name__ == "__main__":
    main()
