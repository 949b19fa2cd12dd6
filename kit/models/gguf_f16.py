"""A float16 copy of a GGUF file, so llama.cpp computes what transformers computes.

transformers de-quantizes a GGUF to float32 when it loads it; llama.cpp on the
original Q4 file multiplies by 8-bit activations, and for SmolLM2-135M that was
enough to change a greedy answer (next-token probabilities up to 0.05 apart). On the
same values stored as float16 they are within 0.001 and decode at the same speed
(benchmarks/generate.py), so lessons, grading and chat agree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from kit.files import written_whole

FILE_TYPE_F16 = 1  # llama.cpp's LLAMA_FTYPE_MOSTLY_F16


def write_f16(source: Path, target: Path, *, label: str = "float16") -> Path:
    """Write `source` with every tensor de-quantized (matrices float16), atomically."""
    import gguf

    reader = gguf.GGUFReader(str(source))
    arch = _value(reader.fields["general.architecture"])
    with written_whole(target) as partial:
        writer = gguf.GGUFWriter(str(partial), arch)
        for name, field in reader.fields.items():
            if name.startswith("GGUF.") or name == "general.architecture":
                continue  # the writer adds these itself
            kind = field.types[0]
            if name == "general.file_type":
                writer.add_uint32(name, FILE_TYPE_F16)
            elif kind == gguf.GGUFValueType.ARRAY:
                writer.add_key_value(
                    name, _values(field), kind, sub_type=field.types[1]
                )
            else:
                writer.add_key_value(name, _value(field), kind)
        for tensor in tqdm(reader.tensors, desc=label, unit="tensor", leave=False):
            shape = [int(n) for n in reversed(tensor.shape.tolist())]
            data = gguf.quants.dequantize(tensor.data, tensor.tensor_type)
            # llama.cpp keeps norms and other vectors in float32.
            kind = np.float16 if len(shape) == 2 else np.float32
            writer.add_tensor(tensor.name, data.reshape(shape).astype(kind))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
    return target


def _value(field):
    """Return a scalar or string field's value."""
    import gguf

    part = field.parts[field.data[0]]
    if field.types[0] == gguf.GGUFValueType.STRING:
        return bytes(part).decode("utf-8", "surrogateescape")
    return part.tolist()[0]


def _values(field) -> list:
    """Return an array field's values (strings decoded)."""
    import gguf

    if field.types[1] == gguf.GGUFValueType.STRING:
        return [bytes(field.parts[i]).decode("utf-8", "surrogateescape")
                for i in field.data]  # fmt: skip
    return [field.parts[i].tolist()[0] for i in field.data]
