"""Readable token pieces: what each token id stands for, bytes and all."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from kit.errors import SettingError


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """Return GPT-2's byte-level alphabet, reversed: printable char -> byte."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars)}


def piece_bytes(raw: str) -> bytes | None:
    """Return the bytes a byte-level BPE token stands for, or None if it is not one."""
    decoder = _byte_decoder()
    if raw and all(ch in decoder for ch in raw):
        return bytes(decoder[ch] for ch in raw)
    return None


def piece_text(raw: str) -> str:
    """Return a token as a person reads it; part of a character shows as <0xEC>."""
    data = piece_bytes(raw)
    if data is None:  # SentencePiece style: '▁' is a space, '<0xEC>' a byte
        return raw.replace("▁", " ")
    text = data.decode("utf-8", errors="backslashreplace")
    return re.sub(r"\\x([0-9a-f]{2})", lambda m: f"<0x{m[1].upper()}>", text)


def piece_texts(tokenizer, ids: list[int]) -> list[str]:
    """Return the readable piece of each token id."""
    raws = tokenizer.convert_ids_to_tokens(list(ids))
    return [piece_text(raw) if raw is not None else "" for raw in raws]


def pad_id(tokenizer) -> int:
    """Return the tokenizer's padding id, borrowing end-of-text where it has none."""
    if tokenizer.pad_token_id is None:  # batches need one; the mask hides it anyway
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer.pad_token_id


def first_token_ids(tokenizer, tokens: Sequence[str]) -> list[int]:
    """Return the first token id of each candidate (" Seoul" and "Seoul" differ)."""
    if isinstance(tokens, str) or not tokens:
        raise SettingError("bad_type", name="tokens", kind="list[str]", value=tokens)
    ids = []
    for candidate in tokens:
        if not isinstance(candidate, str) or not candidate:
            raise SettingError("bad_type", name="tokens", kind="list[str]",
                               value=candidate)  # fmt: skip
        ids.append(tokenizer(candidate, add_special_tokens=False).input_ids[0])
    return ids
