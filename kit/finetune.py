"""kit.finetune: LoRA on a labelled set, charged per step, with a live loss plot."""

from __future__ import annotations

import contextlib
import inspect
import random
import sys
import time
from collections.abc import Callable

import torch
from tqdm.auto import tqdm

from kit import messages, quota
from kit.adapters import Adapter, LossPlot, quiet_peft, shared_copy
from kit.checks import check_number
from kit.errors import KitError, QuotaExceeded, SettingError
from kit.hub.client import RemoteModel
from kit.model import Model
from kit.notebook import in_notebook
from kit.prompt import Prompt, training_prompt
from kit.rng import seeded

MAX_ROWS = 5000
MAX_TOKENS = 384  # per example: longer ones are refused, not silently cut
# At this many tokens per letter the model reads text as byte pieces (Chinese, Japanese
# and Korean on English-centric models); English is ~0.3, Korean ~2.7 on SmolLM2.
UNFAMILIAR_TOKENS_PER_LETTER = 1.5


def target_modules_for(model: Model, wanted: list[str] | None = None) -> list[str]:
    """Return the layers LoRA adapts: every linear projection, or `wanted`."""
    linear = {
        name.rsplit(".", 1)[-1]
        for name, module in model.hf.named_modules()
        if isinstance(module, torch.nn.Linear) and name != "lm_head"
    }
    if wanted is None:
        # Every linear projection (attention and MLP), as peft's "all-linear": on the
        # shipped sets it generalised clearly better than q/v only (95% vs 80%
        # held-out on movie_genres, same steps).
        wanted = sorted(linear)
    unknown = [m for m in wanted if m not in linear]
    if unknown or not wanted:
        raise SettingError(
            "lora_unknown_module", names=", ".join(unknown) or "[]",
            available=", ".join(sorted(linear)),
        )  # fmt: skip
    return list(wanted)


def check_training(steps, learning_rate, batch_size, rank, dropout) -> None:
    """Raise a friendly SettingError unless each training setting is in its range."""
    check_number("steps", steps, 1, 5000, 60, integer=True)
    check_number("learning_rate", learning_rate, 1e-6, 0.05, 1e-3)
    check_number("batch_size", batch_size, 1, 64, 8, integer=True)
    check_number("rank", rank, 1, 256, 8, integer=True)
    check_number("dropout", dropout, 0, 0.5, 0.05)


def training_examples(model: Model, prompt: Prompt, rows: list[dict]) -> list[dict]:
    """Tokenize rows as chat turns; only the answer's tokens carry a loss."""
    out = []
    for number, row in enumerate(rows, 1):
        convo = prompt.messages(row)
        answer = prompt._fill(prompt.answer, row)
        asked = model._chat_ids(convo)[0].tolist()
        eos = model.tokenizer.convert_tokens_to_ids(model.tokenizer.eos_token)
        if getattr(model.tokenizer, "chat_template", None):
            full = model.tokenizer.apply_chat_template(
                convo + [{"role": "assistant", "content": answer}], tokenize=True,
                return_dict=True,
            )["input_ids"]  # fmt: skip
        else:  # a base model: the plain transcript Model.chat writes, then the answer
            said = model.tokenizer(" " + answer, add_special_tokens=False).input_ids
            full = asked + said + [eos]
        # Drop the template's trailing newline after the end-of-turn token, if any.
        if eos in full[len(asked) :]:
            full = full[: len(asked) + full[len(asked) :].index(eos) + 1]
        if len(full) > MAX_TOKENS:
            raise SettingError("finetune_row_too_long", row=number, tokens=len(full),
                               limit=MAX_TOKENS)  # fmt: skip
        labels = [-100] * len(asked) + full[len(asked) :]
        out.append({"input_ids": full, "labels": labels})
    return out


def _keeps_logits(peft_model) -> bool:
    """Return True if the model can compute logits for its last positions only."""
    forward = peft_model.get_base_model().forward
    return "logits_to_keep" in inspect.signature(forward).parameters


def _warn_if_unfamiliar(model: Model, data) -> None:
    """Warn when the model reads the data's text as byte pieces (a language it hardly saw)."""
    sample = "\n".join(data.texts[:20])
    letters = len("".join(sample.split()))
    ratio = model.count_tokens(sample) / letters if letters else 0.0
    # On Korean rows LoRA learnt the training rows by heart (loss 0.001) yet got 35-75%
    # of new rows right (benchmarks/finetune.py): the fix is another model, not steps.
    if ratio >= UNFAMILIAR_TOKENS_PER_LETTER:
        print(messages.t("finetune_unfamiliar", ratio=ratio, model=model.name),
              file=sys.stderr)  # fmt: skip


def fast_bf16(device: torch.device) -> bool:
    """Return True where bf16 matrix maths runs natively (recent CPUs, most GPUs)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and torch.cpu._is_avx512_bf16_supported()


def _autocast(device: torch.device, enabled: bool):
    """Run the forward pass in bf16 with fp32 master weights (standard mixed precision)."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def _batches(examples: list[dict], size: int, seed: int, pad_id: int, *, left=False):
    """Yield padded batches forever, reshuffling each epoch (deterministic for a seed)."""
    order = random.Random(seed)
    while True:
        indices = list(range(len(examples)))
        order.shuffle(indices)
        for start in range(0, len(indices), size):
            chunk = [examples[i] for i in indices[start : start + size]]
            longest = max(len(e["input_ids"]) for e in chunk)
            ids = torch.full((len(chunk), longest), pad_id)
            labels = torch.full((len(chunk), longest), -100)
            mask = torch.zeros((len(chunk), longest), dtype=torch.long)
            for row, e in enumerate(chunk):
                n = len(e["input_ids"])
                at = slice(longest - n, longest) if left else slice(0, n)
                ids[row, at] = torch.tensor(e["input_ids"])
                labels[row, at] = torch.tensor(e["labels"])
                mask[row, at] = 1
            yield ids, mask, labels


def _full_loss(model, ids, mask, labels) -> torch.Tensor:
    """Return the mean loss over the answer tokens, from logits at every position."""
    return model(input_ids=ids, attention_mask=mask, labels=labels).loss


def _answer_loss(model, ids, mask, labels) -> torch.Tensor:
    """Return the mean loss over the answer tokens of left-padded rows."""
    # Left padding puts every answer at the end of its row, so the model projects only
    # the last few positions onto its vocabulary, not every position: 1.25x (English)
    # to 1.5x (Korean) faster steps (benchmarks/finetune.py), the same loss.
    keep = int((labels != -100).sum(1).max()) + 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)  # as generate() numbers them
    logits = model(input_ids=ids, attention_mask=mask, position_ids=positions,
                   logits_to_keep=keep).logits  # fmt: skip
    return torch.nn.functional.cross_entropy(
        logits[:, :-1].flatten(0, 1).float(), labels[:, 1 - keep :].flatten()
    )


def finetune(
    model: Model,
    dataset,
    *,
    steps: int = 60,
    learning_rate: float = 1e-3,
    batch_size: int = 8,
    rank: int = 8,
    alpha: int | None = None,
    dropout: float = 0.05,
    target_modules: list[str] | None = None,
    prompt: Prompt | None = None,
    seed: int = 0,
    mixed_precision: bool | None = None,
    plot: bool | None = None,
    progress: bool = True,
    on_step: Callable[[int, float], None] | None = None,
) -> Adapter:
    """Teach `model` a labelled task with LoRA and return the adapter (base untouched)."""
    from peft import LoraConfig, get_peft_model
    from transformers import get_linear_schedule_with_warmup

    from kit.evaluate import as_dataset

    if isinstance(model, Adapter):
        model = model.base
    data = as_dataset(dataset)
    check_training(steps, learning_rate, batch_size, rank, dropout)
    if not 1 <= len(data) <= MAX_ROWS or not data.labels:
        raise SettingError("finetune_data_size", rows=len(data), limit=MAX_ROWS)
    if progress:  # a person is watching: say now if the model can hardly read the data
        _warn_if_unfamiliar(model, data)
    if isinstance(model, RemoteModel):  # hub mode: the service trains, in its queue
        from kit.hub.finetune import finetune_remote

        return finetune_remote(model, data, steps=steps, learning_rate=learning_rate,
                               batch_size=batch_size, rank=rank, alpha=alpha,
                               dropout=dropout, target_modules=target_modules,
                               prompt=prompt, seed=seed, plot=plot, progress=progress,
                               on_step=on_step)  # fmt: skip
    account = quota.current()
    left = account.left("finetune_steps")
    if left is not None and left < steps:
        raise QuotaExceeded("quota_too_big", kind=messages.Term("kind_finetune_steps"),
                            need=steps, left=int(left), limit=int(account.limits()[
                                "finetune_steps"] or 0), reset=account.reset_text())  # fmt: skip
    prompt = prompt or training_prompt(model, data.labels, data.lang)
    modules = target_modules_for(model, target_modules)
    examples = training_examples(model, prompt, list(data))
    config = LoraConfig(r=rank, lora_alpha=alpha or 2 * rank, lora_dropout=dropout,
                        target_modules=modules, task_type="CAUSAL_LM")  # fmt: skip
    with seeded(seed, model.device), quiet_peft():
        peft_model = get_peft_model(shared_copy(model.hf), config)
    trainable = [p for p in peft_model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=learning_rate)
    schedule = get_linear_schedule_with_warmup(optimiser, min(10, steps // 10), steps)
    # A few exotic architectures cannot keep only the last logits: the full pass there.
    answer_only = _keeps_logits(peft_model)
    loss_of = _answer_loss if answer_only else _full_loss
    batches = _batches(examples, batch_size, seed, model.tokenizer.pad_token_id,
                       left=answer_only)  # fmt: skip
    live = LossPlot() if (plot if plot is not None else in_notebook()) else None
    bar = tqdm(total=steps, desc=messages.t("finetune_running"), unit="step",
               disable=not progress)  # fmt: skip
    losses: list[float] = []
    on_gpu = model.device.type == "cuda"
    # bf16 forward passes where the hardware has it: 1.6x faster steps on a 2-core
    # AVX512-BF16 CPU with the same held-out scores (benchmarks/finetune.py).
    mixed = fast_bf16(model.device) if mixed_precision is None else mixed_precision
    started = time.perf_counter()
    peft_model.train()
    try:
        with seeded(seed, model.device):
            for step in range(steps):
                ids, mask, labels = next(batches)
                with account.charge(finetune_steps=1, on_gpu=on_gpu):
                    with _autocast(model.device, mixed):
                        loss = loss_of(peft_model, ids.to(model.device),
                                       mask.to(model.device),
                                       labels.to(model.device))  # fmt: skip
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(trainable, 1.0)
                    optimiser.step()
                    schedule.step()
                    optimiser.zero_grad()
                losses.append(loss.item())
                if on_step is not None:  # the service reports progress to the kernel
                    on_step(len(losses), losses[-1])
                bar.update()
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
                if live and (step % 5 == 4 or step == steps - 1):
                    live.update(losses)
    except QuotaExceeded as stop:
        # Keep what was learnt up to the last whole step, and say why it stopped.
        print(messages.t("finetune_stopped", steps=len(losses), reason=str(stop)),
              file=sys.stderr)  # fmt: skip
        if not losses:
            raise
    finally:
        bar.close()
        peft_model.eval()
    manifest = {
        "base": model.name, "base_fingerprint": model.fingerprint(),
        "dataset": data.name, "dataset_fingerprint": data.fingerprint(),
        "labels": data.labels, "system": prompt.system, "template": prompt.template,
        "examples": prompt.examples, "answer": prompt.answer,
        "max_new_tokens": prompt.max_new_tokens, "batch_size": batch_size,
        "steps": len(losses),
        "steps_asked": steps, "learning_rate": learning_rate, "rank": rank,
        "alpha": alpha or 2 * rank, "target_modules": modules, "seed": seed,
        "mixed_precision": mixed,
        "final_loss": losses[-1], "train_seconds": time.perf_counter() - started,
        "scores": {},
    }  # fmt: skip
    return Adapter(peft_model, model, manifest=manifest, losses=losses)


__all__ = ["finetune", "KitError"]
