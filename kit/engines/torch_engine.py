"""The transformers/peft engine: exact float logits, training, batched generation."""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence

import torch
from transformers import GenerationConfig, StoppingCriteria, StoppingCriteriaList

from kit.engines.base import Engine, Sampling, until_stop
from kit.rng import seeded


class TorchEngine(Engine):
    """Generate with `model.generate` of a transformers (or peft) model."""

    label = "transformers"

    def __init__(self, hf_model, pad_id: int) -> None:
        self.hf = hf_model
        self.pad_id = pad_id

    def generate(
        self,
        rows: Sequence[Sequence[int]],
        sampling: Sampling,
        stops: Collection[int],
        *,
        streamer=None,
        abort: threading.Event | None = None,
    ) -> list[list[int]]:
        """Return each row's new ids; several rows run as one left-padded batch."""
        device = self.hf.device
        ids, mask = left_pad(rows, self.pad_id)
        config = self._config(sampling, stops)
        criteria = _stopping(abort, ids.shape[1])
        with torch.inference_mode(), seeded(sampling.seed, device):
            out = self.hf.generate(
                input_ids=ids.to(device),
                attention_mask=mask.to(device),
                generation_config=config,
                streamer=streamer,
                stopping_criteria=criteria,
            )
        cuts = criteria[0].cuts if criteria else {}
        new = out[:, ids.shape[1] :].tolist()
        # A row stopped alone gets padding after its stop: its answer ends there.
        return [until_stop(row[: cuts.get(i)], stops) for i, row in enumerate(new)]

    def next_token_logits(
        self, ids: Sequence[int], *, wanted: Sequence[int] = ()
    ) -> torch.Tensor:
        """Return the float32 logits after `ids`, from one forward pass."""
        tensor = torch.tensor([list(ids)], dtype=torch.long, device=self.hf.device)
        with torch.inference_mode():
            return self.hf(input_ids=tensor).logits[0, -1].float().cpu()

    def with_lora(self, peft_model) -> TorchEngine:
        """Return an engine over the peft model (it shares these base weights)."""
        return TorchEngine(peft_model, self.pad_id)

    def _config(self, sampling: Sampling, stops: Collection[int]) -> GenerationConfig:
        settings = dict(
            max_new_tokens=sampling.max_new_tokens,
            do_sample=not sampling.greedy,
            eos_token_id=sorted(stops) or None,
            pad_token_id=self.pad_id,
            bos_token_id=self.hf.generation_config.bos_token_id,
        )
        if sampling.greedy:  # no sampling knobs, so transformers raises no warnings
            settings.update(temperature=None, top_p=None, top_k=None)
        else:
            settings.update(temperature=sampling.temperature, top_p=sampling.top_p,
                            top_k=sampling.top_k)  # fmt: skip
        return GenerationConfig(**settings)


def left_pad(
    rows: Sequence[Sequence[int]], pad_id: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack prompts of different lengths, padded on the left as generation needs."""
    longest = max(len(row) for row in rows)
    ids = torch.full((len(rows), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), longest), dtype=torch.long)
    for i, row in enumerate(rows):
        if len(row):
            ids[i, longest - len(row) :] = torch.as_tensor(list(row))
            mask[i, longest - len(row) :] = 1
    return ids, mask


def _stopping(abort, prompt: int) -> StoppingCriteriaList | None:
    """Return criteria that end generation once `abort` is set (None: never).

    A kit.engines.streaming.BatchAbort also stops single rows (their reader left);
    `cuts` records how many new tokens each such row had made by then.
    """
    if abort is None:
        return None

    class _Aborted(StoppingCriteria):
        def __init__(self) -> None:
            self.cuts: dict[int, int] = {}

        def __call__(self, input_ids, scores, **kwargs) -> torch.Tensor:
            rows, device = input_ids.shape[0], input_ids.device
            if not hasattr(abort, "stopped"):
                return torch.full(
                    (rows,), abort.is_set(), dtype=torch.bool, device=device
                )
            stopped = abort.stopped()
            for i in (i for i, stop in enumerate(stopped) if stop):
                self.cuts.setdefault(i, input_ids.shape[1] - prompt)
            return torch.tensor(stopped, dtype=torch.bool, device=device)

    return StoppingCriteriaList([_Aborted()])
