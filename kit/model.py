"""Model: chat, generate, next-token probabilities and tokens, charged to the quota."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from transformers import GenerationConfig, TextStreamer

from kit import messages, quota
from kit.errors import KitError, SettingError
from kit.results import Reply, TokenProbs, Tokens
from kit.tokens import piece_texts

ROLES = ("system", "user", "assistant")
MAX_NEW_TOKENS = 4096


class Model:
    """A language model ready for a notebook: one API for every backend."""

    def __init__(self, hf_model, tokenizer, *, name: str) -> None:
        self.hf = hf_model
        self.tokenizer = tokenizer
        self.name = name
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token

    @property
    def device(self) -> torch.device:
        """Return the device the weights are on."""
        return self.hf.device

    @property
    def dtype(self) -> torch.dtype:
        """Return the dtype of the weights."""
        return self.hf.dtype

    @property
    def context_length(self) -> int:
        """Return how many tokens (prompt + answer) the model can attend to."""
        limit = getattr(self.hf.config, "max_position_embeddings", None)
        return int(limit or min(self.tokenizer.model_max_length, 1 << 20))

    def __repr__(self) -> str:
        params = sum(p.numel() for p in self.hf.parameters()) / 1e6
        dtype = str(self.dtype).removeprefix("torch.")
        return f"<kit.Model {self.name} · {params:.0f}M params · {self.device} · {dtype}>"

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
        stream: bool | None = None,
    ) -> Reply:
        """Answer a message or a conversation; temperature=0 is greedy and repeatable."""
        conversation = _conversation(messages_or_text, system)
        ids = self._chat_ids(conversation)
        reply = self._generate_ids(
            ids, max_new_tokens, temperature, top_p, top_k, seed, stream
        )
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
        _check_text(prompt)
        ids = self.tokenizer(prompt, return_tensors="pt").input_ids
        return self._generate_ids(
            ids, max_new_tokens, temperature, top_p, top_k, seed, stream
        )

    def next_token_probs(self, text: str, *, top: int = 10) -> TokenProbs:
        """Return the `top` most likely next tokens after `text`, with probabilities."""
        _check_text(text)
        _check_number("top", top, 1, 100, 10, integer=True)
        ids = self.tokenizer(text, return_tensors="pt").input_ids
        self._check_length(ids.shape[1], 0)
        with torch.inference_mode():
            logits = self.hf(input_ids=ids.to(self.device)).logits[0, -1]
        probs = torch.softmax(logits.float(), dim=-1)
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
        return self.tokenizer("\n".join(lines) + "\nAssistant:", return_tensors="pt").input_ids

    def _check_length(self, prompt_tokens: int, new_tokens: int) -> None:
        if prompt_tokens + new_tokens > self.context_length:
            raise SettingError(
                "prompt_too_long", tokens=prompt_tokens, limit=self.context_length
            )

    def _generate_ids(self, ids, max_new_tokens, temperature, top_p, top_k, seed, stream):
        _check_number("max_new_tokens", max_new_tokens, 1, MAX_NEW_TOKENS, 128, True)
        _check_number("temperature", temperature, 0, 5, 0.7)
        _check_number("top_p", top_p, 0.01, 1, 0.9)
        _check_number("top_k", top_k, 0, 1000, 50, integer=True)
        if seed is not None:
            _check_number("seed", seed, 0, 2**32 - 1, 42, integer=True)
        stream = _in_notebook() if stream is None else bool(stream)
        prompt_tokens = ids.shape[1]
        self._check_length(prompt_tokens, 1)
        max_new_tokens = min(max_new_tokens, self.context_length - prompt_tokens)
        account = quota.current()
        left = account.left("tokens")
        if left is not None and 1 <= left < max_new_tokens:
            print(messages.t("quota_clamped", left=int(left)), file=sys.stderr)
            max_new_tokens = int(left)
        config = self._generation_config(max_new_tokens, temperature, top_p, top_k)
        streamer = _streamer(self.tokenizer) if stream else None
        on_gpu = self.device.type == "cuda"
        with account.charge(generations=1, tokens=max_new_tokens, on_gpu=on_gpu) as c:
            started = time.perf_counter()
            with torch.inference_mode(), _seeded(seed, self.device):
                out = self.hf.generate(
                    input_ids=ids.to(self.device),
                    attention_mask=torch.ones_like(ids).to(self.device),
                    generation_config=config,
                    streamer=streamer,
                )
            seconds = time.perf_counter() - started
            new = out[0, prompt_tokens:]
            c.used(generations=1, tokens=int(new.shape[0]))
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        return Reply(
            text,
            tokens=int(new.shape[0]),
            prompt_tokens=prompt_tokens,
            seconds=seconds,
            streamed=stream,
        )

    def _generation_config(self, max_new_tokens, temperature, top_p, top_k):
        base = self.hf.generation_config
        sampling = temperature > 0
        settings = dict(
            max_new_tokens=max_new_tokens,
            do_sample=sampling,
            eos_token_id=base.eos_token_id or self.tokenizer.eos_token_id,
            pad_token_id=self.tokenizer.pad_token_id,
            bos_token_id=base.bos_token_id,
        )
        if sampling:
            settings.update(temperature=temperature, top_p=top_p, top_k=top_k)
        else:  # greedy: no sampling knobs, so transformers raises no warnings
            settings.update(temperature=None, top_p=None, top_k=None)
        return GenerationConfig(**settings)


def _conversation(
    messages_or_text: str | Sequence[dict[str, str]], system: str | None
) -> list[dict[str, str]]:
    """Return a validated list of chat messages, with `system` first if given."""
    if isinstance(messages_or_text, str):
        _check_text(messages_or_text)
        conversation = [{"role": "user", "content": messages_or_text}]
    elif isinstance(messages_or_text, Sequence) and messages_or_text:
        conversation = []
        for i, message in enumerate(messages_or_text):
            if not isinstance(message, dict) or set(message) - {"role", "content"}:
                raise SettingError("bad_messages", problem=f"item {i}: {message!r}")
            role, content = message.get("role"), message.get("content")
            if role not in ROLES or not isinstance(content, str):
                raise SettingError("bad_messages", problem=f"item {i}: {message!r}")
            conversation.append({"role": role, "content": content})
    else:
        raise SettingError("bad_messages", problem=repr(messages_or_text)[:80])
    if system is not None:
        if not isinstance(system, str):
            raise SettingError("bad_type", name="system", kind="str", value=system)
        conversation = [{"role": "system", "content": system}] + [
            m for m in conversation if m["role"] != "system"
        ]
    return conversation


def _check_text(text: object) -> None:
    if not isinstance(text, str):
        raise SettingError("bad_type", name="prompt", kind="str", value=text)
    if not text.strip():
        raise SettingError("empty_prompt")


def _check_number(name, value, low, high, example, integer=False) -> None:
    """Raise a friendly SettingError unless low <= value <= high."""
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not is_number or (integer and not float(value).is_integer()):
        kind = "int" if integer else "number"
        raise SettingError("bad_type", name=name, kind=kind, value=value)
    if not low <= value <= high:
        raise SettingError(
            "bad_number", name=name, low=low, high=high, value=value, example=example
        )


def _in_notebook() -> bool:
    """Return True inside a Jupyter kernel, where answers stream as they come."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return type(shell).__name__ == "ZMQInteractiveShell"


def _streamer(tokenizer) -> TextStreamer:
    return TextStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)


@contextmanager
def _seeded(seed: int | None, device: torch.device) -> Iterator[None]:
    """Seed sampling for this call only, leaving the caller's random state alone."""
    if seed is None:
        yield
        return
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


__all__ = ["Model", "KitError"]
