"""Model: chat, generate, next-token probabilities and tokens, charged to the quota."""

from __future__ import annotations

import copy
import sys
import time
from collections.abc import Callable, Sequence

import torch

from kit import messages, quota
from kit.checks import (
    check_number,
    check_text,
    checked_conversation,
    generation_settings,
)
from kit.engines.base import Engine, Sampling
from kit.engines.streaming import streamer_for
from kit.engines.tokens import first_token_ids, pad_id, piece_texts
from kit.engines.torch_engine import TorchEngine
from kit.errors import KitError, SettingError
from kit.korean_hint import hint_if_korean
from kit.models.weights import FolderWeights, fingerprint_of
from kit.notebook import in_notebook
from kit.results import Reply, TokenProbs, Tokens


class Model:
    """A language model ready for a notebook: one API for every backend."""

    def __init__(
        self,
        hf_model,
        tokenizer,
        *,
        name: str,
        engine: Engine | None = None,
        weights: FolderWeights | None = None,
    ) -> None:
        # hf_model None: built from `weights` when first needed (training, adapters,
        # exact logits), so a kernel that only chats with llama.cpp never pays for it.
        if hf_model is None and (weights is None or engine is None):
            raise ValueError("a Model without hf_model needs its weights and an engine")
        self._hf = hf_model
        self._weights = weights
        self.tokenizer = tokenizer
        self.name = name
        self._fingerprint: str | None = None
        # What runs generation; the transformers model stays for logits and training.
        pad = pad_id(tokenizer)  # batches need one, whichever engine runs them
        self.engine = engine or TorchEngine(hf_model, pad)

    def with_engine(self, engine: Engine, *, name: str | None = None) -> Model:
        """Return this model (tokenizer, weights) run by another engine, e.g. a server's."""
        twin = copy.copy(self)
        twin.__dict__.update(engine=engine, name=name or self.name)
        return twin

    @property
    def hf(self):
        """Return the transformers model (built on first use when llama.cpp generates)."""
        if self._hf is None:
            self._hf = self._weights.build()
        return self._hf

    @property
    def device(self) -> torch.device:
        """Return the device the weights are on."""
        return self.hf.device if self._hf is not None else torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        """Return the dtype of the weights."""
        return self.hf.dtype if self._hf is not None else self._weights.dtype

    @property
    def context_length(self) -> int:
        """Return how many tokens (prompt + answer) the model can attend to."""
        if self._hf is not None:
            limit = getattr(self.hf.config, "max_position_embeddings", None)
        else:
            limit = self._weights.config.get("max_position_embeddings")
        limit = int(limit or min(self.tokenizer.model_max_length, 1 << 20))
        return min(limit, self.engine.context or limit)

    def fingerprint(self) -> str:
        """Return an id of these exact base weights (adapters check it before loading)."""
        if self._fingerprint is None:
            self._fingerprint = fingerprint_of(self.hf)
        return self._fingerprint

    def parameter_count(self) -> int:
        """Return how many numbers (parameters) the model has."""
        if self._hf is None:
            return self._weights.parameter_count
        return sum(p.numel() for p in self.hf.parameters())

    def size_mb(self) -> float:
        """Return how much memory the weights take, in megabytes."""
        if self._hf is None:
            return self._weights.parameter_count * self.dtype.itemsize / 1e6
        return sum(p.numel() * p.element_size() for p in self.hf.parameters()) / 1e6

    def __repr__(self) -> str:
        params = self.parameter_count() / 1e6
        dtype = str(self.dtype).removeprefix("torch.")
        return (f"<kit.Model {self.name} · {params:.0f}M params · {self.device} · "
                f"{dtype} · {self.engine.label}>")  # fmt: skip

    # --- text in, text out ------------------------------------------------------
    def chat(
        self,
        messages_or_text: str | Sequence[dict[str, str]],
        *,
        system: str | None = None,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 1.0,
        top_k: int = 0,
        seed: int | None = None,
        stream: bool | Callable[[str], None] | None = None,
    ) -> Reply:
        """Answer a message or a conversation; temperature=0 is greedy and repeatable."""
        conversation = checked_conversation(messages_or_text, system)
        hint_if_korean(self.name, conversation)
        reply = self._generate_ids(self._chat_ids(conversation), max_new_tokens,
                                   temperature, top_p, top_k, seed, stream)  # fmt: skip
        return Reply(reply.strip(), **reply.details())

    def generate(
        self,
        prompt: str,
        *,
        max_new_tokens: int = 64,
        temperature: float = 0.0,
        top_p: float = 1.0,
        top_k: int = 0,
        seed: int | None = None,
        stream: bool = False,
    ) -> Reply:
        """Continue `prompt` as raw text (no chat template)."""
        check_text(prompt)
        ids = self.tokenizer(prompt, return_tensors="pt").input_ids
        return self._generate_ids(ids, max_new_tokens, temperature, top_p, top_k,
                                  seed, stream)  # fmt: skip

    def next_token_probs(
        self, text: str, *, top: int = 10, tokens: Sequence[str] | None = None
    ) -> TokenProbs:
        """Return the `top` most likely next tokens after `text` (or the `tokens` asked)."""
        check_text(text)
        check_number("top", top, 1, 100, 10, integer=True)
        asked = first_token_ids(self.tokenizer, tokens) if tokens is not None else None
        ids = self.tokenizer(text, return_tensors="pt").input_ids
        self._check_length(ids.shape[1], 0)
        logits = self.engine.next_token_logits(ids[0].tolist(), wanted=asked or ())
        probs = torch.softmax(logits, dim=-1)
        if asked is not None:  # the candidates the student named, in their order
            values, top_ids = probs[asked], asked
        else:
            values, indices = probs.topk(top)
            top_ids = indices.tolist()
        return TokenProbs(
            text=text,
            pieces=piece_texts(self.tokenizer, top_ids),
            ids=top_ids,
            probs=[round(v, 6) for v in values.tolist()],
        )

    def tokenize(self, text: str) -> Tokens:
        """Cut `text` into tokens: the pieces the model reads, and their ids."""
        if not isinstance(text, str):
            raise SettingError("bad_type", name="text", kind="str", value=text)
        ids = self.tokenizer(text, add_special_tokens=False).input_ids
        return Tokens(text=text, ids=ids, pieces=piece_texts(self.tokenizer, ids))

    def decode(self, ids: Sequence[int]) -> str:
        """Turn token ids back into text (bytes of one character are joined again)."""
        return self.tokenizer.decode(list(ids), skip_special_tokens=False)

    def chat_text(
        self,
        messages_or_text: str | Sequence[dict[str, str]],
        *,
        system: str | None = None,
    ) -> str:
        """Return the exact text the model reads for a chat: the template filled in."""
        ids = self._chat_ids(checked_conversation(messages_or_text, system))[0]
        return self.decode(ids.tolist())

    def count_tokens(self, text: str) -> int:
        """Return how many tokens `text` is."""
        return len(self.tokenize(text))

    # --- internals ---------------------------------------------------------------
    def _chat_ids(self, conversation: list[dict[str, str]]) -> torch.Tensor:
        if getattr(self.tokenizer, "chat_template", None):
            encoded = self.tokenizer.apply_chat_template(
                conversation, add_generation_prompt=True, return_dict=True,
                return_tensors="pt",
            )  # fmt: skip
            return encoded["input_ids"]
        # Base models without a template: a plain transcript they can continue.
        lines = [f"{m['role'].capitalize()}: {m['content']}" for m in conversation]
        return self.tokenizer(
            "\n".join(lines) + "\nAssistant:", return_tensors="pt"
        ).input_ids

    def _check_length(self, prompt_tokens: int, new_tokens: int) -> None:
        if prompt_tokens + new_tokens > self.context_length:
            raise SettingError(
                "prompt_too_long", tokens=prompt_tokens, limit=self.context_length
            )

    def _generate_ids(
        self, ids, max_new_tokens, temperature, top_p, top_k, seed, stream
    ):
        settings = generation_settings(max_new_tokens, temperature, top_p, top_k, seed)
        return self._generate_batch([ids[0]], settings, stream)[0]

    def _generate_batch(
        self, rows: list[torch.Tensor], settings: dict, stream=False, abort=None
    ):
        """Generate for several prompts at once (left-padded); return one Reply each.

        `abort` (a threading.Event) ends generation early when set: the service stops.
        """
        stream = in_notebook() if stream is None else stream
        longest = max(int(row.shape[0]) for row in rows)
        self._check_length(longest, 1)
        max_new = min(settings["max_new_tokens"], self.context_length - longest)
        account = quota.current()
        left = account.left("tokens")
        if left is not None and 1 <= left < max_new * len(rows):
            print(messages.t("quota_clamped", left=int(left)), file=sys.stderr)
            max_new = max(1, int(left) // len(rows))
        sampling = Sampling(**{**settings, "max_new_tokens": max_new})
        streamer = streamer_for(self.tokenizer, stream, len(rows))
        on_gpu = self.device.type == "cuda"
        budget = {"generations": len(rows), "tokens": max_new * len(rows)}
        with account.charge(on_gpu=on_gpu, **budget) as charge:
            started = time.perf_counter()
            answers = self.engine.generate(
                [row.tolist() for row in rows], sampling, self._stop_ids(),
                streamer=streamer, abort=abort,
            )  # fmt: skip
            seconds = time.perf_counter() - started
            made = sum(len(a) for a in answers)
            charge.used(generations=len(rows), tokens=made)
        return [
            Reply(
                # A reply cut at max_new_tokens can end inside a Korean character's
                # bytes: drop that half character (U+FFFD) rather than show it.
                self.tokenizer.decode(answer, skip_special_tokens=True).rstrip(
                    "\ufffd"
                ),
                tokens=len(answer),
                prompt_tokens=int(row.shape[0]),
                seconds=seconds,
                streamed=bool(streamer) and stream is True,
            )
            for answer, row in zip(answers, rows)
        ]

    def chat_batch(
        self,
        conversations: Sequence[str | Sequence[dict[str, str]]],
        *,
        system: str | None = None,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 1.0,
        top_k: int = 0,
        seed: int | None = None,
    ) -> list[Reply]:
        """Answer several conversations in one batch: much faster than one by one."""
        if isinstance(conversations, str) or not conversations:
            raise SettingError("bad_messages", problem="a list of conversations")
        settings = generation_settings(max_new_tokens, temperature, top_p, top_k, seed)
        rows = [
            self._chat_ids(checked_conversation(c, system))[0] for c in conversations
        ]
        return [
            Reply(reply.strip(), **reply.details())
            for reply in self._generate_batch(rows, settings, stream=False)
        ]

    def _stop_ids(self) -> set[int]:
        """Return the token ids that end an answer (the model's end-of-text ids)."""
        if self._hf is None:
            return self._weights.eos_ids() or {self.tokenizer.eos_token_id} - {None}
        eos = self.hf.generation_config.eos_token_id or self.tokenizer.eos_token_id
        return set(eos if isinstance(eos, list) else [eos]) - {None}


__all__ = ["Model", "KitError"]
