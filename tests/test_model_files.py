"""Model files written whole or not at all: the float16 copy, joined parts, adapters."""

from __future__ import annotations

import hashlib
import stat

import numpy as np
import pytest

from kit.files import written_whole
from kit.models import bundled, packaged, shipped


def test_a_failed_write_leaves_neither_the_file_nor_a_partial(tmp_path):
    target = tmp_path / "cache" / "model.gguf"
    with pytest.raises(RuntimeError):
        with written_whole(target) as partial:
            partial.write_bytes(b"half")
            raise RuntimeError("power cut")
    assert not target.exists() and list(target.parent.iterdir()) == []
    with written_whole(target) as partial:
        partial.write_bytes(b"whole")
    assert target.read_bytes() == b"whole"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # other kernels may read it
    assert [p.name for p in target.parent.iterdir()] == ["model.gguf"]


def test_the_float16_copy_holds_the_same_weights(tmp_path):
    import gguf

    from kit.models.gguf_f16 import write_f16

    source = bundled.gguf_path()
    copy = write_f16(source, tmp_path / "model.f16.gguf")
    original, written = gguf.GGUFReader(str(source)), gguf.GGUFReader(str(copy))
    assert [t.name for t in written.tensors] == [t.name for t in original.tensors]
    kinds = {t.tensor_type for t in written.tensors}
    assert kinds <= {gguf.GGMLQuantizationType.F16, gguf.GGMLQuantizationType.F32}
    for before, after in list(zip(original.tensors, written.tensors))[:12]:
        exact = gguf.quants.dequantize(before.data, before.tensor_type).ravel()
        stored = np.asarray(after.data, dtype=np.float32).ravel()
        assert np.allclose(stored, exact, rtol=1e-3, atol=1e-6), before.name
    template = "tokenizer.chat_template"
    assert bytes(written.fields[template].parts[-1]) == bytes(
        original.fields[template].parts[-1]
    )


def _parts(tmp_path, monkeypatch, blobs: list[bytes], whole_sha: str):
    """Return PackagedWeights over fake installed parts holding `blobs`."""
    parts = []
    for i, blob in enumerate(blobs):
        path = tmp_path / f"part{i}.bin"
        path.write_bytes(blob)
        parts.append(packaged.Part(f"fake-part{i}", "1.0", f"fake_part{i}", path.name,
                                   hashlib.sha256(blob).hexdigest(), len(blob)))  # fmt: skip
    where = {p.module: tmp_path / p.path_in_package for p in parts}
    monkeypatch.setattr(packaged, "part_path", lambda part: where[part.module])
    size = sum(map(len, blobs))
    return packaged.PackagedWeights("fake", "x/fake", "fake.gguf", whole_sha, size,
                                    tuple(parts), "CC0", "test", "-", False, False)  # fmt: skip


def test_parts_join_into_the_file_their_checksums_name(tmp_path, monkeypatch):
    blobs = [b"GGUF" + b"a" * 1000, b"b" * 777]
    whole = hashlib.sha256(b"".join(blobs)).hexdigest()
    weights = _parts(tmp_path, monkeypatch, blobs, whole)
    dest = packaged.assemble(weights, tmp_path / "out" / "fake.gguf")
    assert dest.read_bytes() == b"".join(blobs)


def test_a_damaged_part_is_named_and_nothing_is_left(tmp_path, monkeypatch):
    blobs = [b"GGUF" + b"a" * 1000, b"b" * 777]
    whole = hashlib.sha256(b"".join(blobs)).hexdigest()
    weights = _parts(tmp_path, monkeypatch, blobs, whole)
    (tmp_path / "part1.bin").write_bytes(b"c" * 777)  # same size, other bytes
    with pytest.raises(ValueError, match="fake-part1: sha256 mismatch"):
        packaged.assemble(weights, tmp_path / "out" / "fake.gguf")
    assert list((tmp_path / "out").iterdir()) == []


def test_shipped_state_sees_the_parts_then_the_joined_copy(tmp_path, monkeypatch):
    """Does shipped.state() say installed once every part fits, prepared once joined?"""
    blobs = [b"GGUF" + b"a" * 1000, b"b" * 777]
    whole = hashlib.sha256(b"".join(blobs)).hexdigest()
    weights = _parts(tmp_path, monkeypatch, blobs, whole)
    cache = tmp_path / "cache"
    (tmp_path / "part1.bin").write_bytes(b"b" * 10)  # half downloaded: wrong size
    assert shipped.state(weights, cache) == shipped.ShippedState(False, False)
    (tmp_path / "part1.bin").write_bytes(blobs[1])
    assert shipped.state(weights, cache) == shipped.ShippedState(True, False)
    packaged.assemble(weights, shipped.gguf_file(weights, cache))
    assert shipped.state(weights, cache) == shipped.ShippedState(True, True)


def test_the_models_in_parts_are_the_ones_with_more_than_one_package():
    """Does shipped_in_parts() list the Korean model, not the single-file bundled one?"""
    names = [w.name for w in packaged.shipped_in_parts()]
    assert "qwen2.5-coder-0.5b" in names and "smollm2-135m" not in names
    assert names == [n for n, w in packaged.PACKAGED.items() if len(w.parts) > 1]
    assert all(packaged.in_parts(n) is packaged.PACKAGED[n] for n in names)
    assert packaged.in_parts("smollm2-135m") is None
