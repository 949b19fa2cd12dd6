"""Write a peft LoRA adapter as a llama.cpp GGUF adapter, as convert_lora_to_gguf does."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import torch

from kit.files import written_whole

# Hugging Face projection names -> llama.cpp tensor names (llama and qwen2 families).
GGUF_NAMES = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
# llama.cpp stores q/k of the llama family with rotary halves interleaved, so LoRA's
# B (output rows) is permuted the same way (llama.cpp's LlamaModel.permute).
PERMUTED = {"llama"}
LAYER = re.compile(r"layers\.(\d+)\.(.+)$")


class NotConvertible(ValueError):
    """The adapter touches layers llama.cpp adapters cannot express."""


def lora_layers(peft_model) -> list[tuple[str, torch.Tensor, torch.Tensor, float]]:
    """Return (module name, A, B, scale) of every LoRA layer of a peft model."""
    from peft.tuners.lora import LoraLayer

    found = []
    for name, module in peft_model.named_modules():
        if not isinstance(module, LoraLayer):
            continue
        # LoRA on embeddings, and DoRA's magnitudes, have no llama.cpp adapter form.
        if getattr(module, "lora_embedding_A", {}) or getattr(
            module, "lora_magnitude_vector", {}
        ):
            raise NotConvertible(name)
        if "default" in module.lora_A:
            found.append((name, module.lora_A["default"].weight,
                          module.lora_B["default"].weight,
                          float(module.scaling["default"])))  # fmt: skip
    return found


def digest(layers) -> str:
    """Return a short id of the adapter's current weights (cache key of the file)."""
    hashed = hashlib.sha256()
    for name, a, b, scale in layers:
        hashed.update(f"{name}:{scale}".encode())
        for tensor in (a, b):
            hashed.update(tensor.detach().float().cpu().numpy().tobytes())
    return hashed.hexdigest()[:20]


def _permute(rows: np.ndarray, heads: int) -> np.ndarray:
    shape = rows.shape
    return (
        rows.reshape(heads, 2, shape[0] // heads // 2, *shape[1:])
        .swapaxes(1, 2)
        .reshape(shape)
    )


def write_adapter(peft_model, config, target: Path) -> Path:
    """Write the adapter of `peft_model` to `target` (a .gguf file), atomically."""
    import gguf

    arch = config.model_type
    layers = lora_layers(peft_model)
    if not layers:
        raise NotConvertible("no LoRA layers")
    rank = int(layers[0][1].shape[0])
    scales = {round(scale, 6) for *_, scale in layers}
    if len(scales) != 1:
        raise NotConvertible("layers with different LoRA scales")
    tensors = [_gguf_tensors(name, a, b, rank, config) for name, a, b, _ in layers]
    with written_whole(target) as partial:
        writer = gguf.GGUFWriter(str(partial), arch)
        writer.add_string("general.type", "adapter")
        writer.add_string("adapter.type", "lora")
        # llama.cpp scales by alpha / rank; peft's scale is alpha / rank (or rsLoRA's).
        writer.add_float32("adapter.lora.alpha", scales.pop() * rank)
        for pair in tensors:
            for name, array in pair:
                writer.add_tensor(name, array)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
    return target


def _gguf_tensors(name: str, a, b, rank: int, config) -> list[tuple[str, np.ndarray]]:
    """Return the llama.cpp names and arrays of one layer's A and B."""
    match = LAYER.search(name)
    suffix = GGUF_NAMES.get(match[2]) if match else None
    if suffix is None or a.shape[0] != rank:
        raise NotConvertible(name)
    base = f"blk.{match[1]}.{suffix}.weight"
    lora_b = b.detach().float().cpu().numpy()
    if config.model_type in PERMUTED and suffix in ("attn_q", "attn_k"):
        heads = config.num_attention_heads
        if suffix == "attn_k":
            heads = getattr(config, "num_key_value_heads", heads) or heads
        lora_b = _permute(lora_b, heads)
    return [(f"{base}.lora_a", a.detach().float().cpu().numpy()),
            (f"{base}.lora_b", np.ascontiguousarray(lora_b))]  # fmt: skip
