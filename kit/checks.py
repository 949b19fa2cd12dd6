"""Argument checks with friendly errors: the same rules in the kernel and the service."""

from __future__ import annotations

from collections.abc import Sequence

from kit.errors import SettingError

ROLES = ("system", "user", "assistant")
MAX_NEW_TOKENS = 4096


def check_text(text: object) -> None:
    if not isinstance(text, str):
        raise SettingError("bad_type", name="prompt", kind="str", value=text)
    if not text.strip():
        raise SettingError("empty_prompt")


def check_number(name, value, low, high, example, integer=False) -> None:
    """Raise a friendly SettingError unless low <= value <= high."""
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not is_number or (integer and not float(value).is_integer()):
        kind = "int" if integer else "number"
        raise SettingError("bad_type", name=name, kind=kind, value=value)
    if not low <= value <= high:
        raise SettingError(
            "bad_number", name=name, low=low, high=high, value=value, example=example
        )


def generation_settings(max_new_tokens, temperature, top_p, top_k, seed) -> dict:
    """Return the generation settings after checking each one's type and range."""
    check_number("max_new_tokens", max_new_tokens, 1, MAX_NEW_TOKENS, 128, True)
    check_number("temperature", temperature, 0, 5, 0.7)
    check_number("top_p", top_p, 0.01, 1, 0.9)
    check_number("top_k", top_k, 0, 1000, 50, integer=True)
    if seed is not None:
        check_number("seed", seed, 0, 2**32 - 1, 42, integer=True)
    return dict(max_new_tokens=int(max_new_tokens), temperature=temperature,
                top_p=top_p, top_k=int(top_k), seed=seed)  # fmt: skip


def checked_conversation(
    messages_or_text: str | Sequence[dict[str, str]], system: str | None
) -> list[dict[str, str]]:
    """Return a validated list of chat messages, with `system` first if given."""
    if isinstance(messages_or_text, str):
        check_text(messages_or_text)
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
