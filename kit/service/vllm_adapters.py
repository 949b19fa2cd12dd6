"""Students' adapters on a vLLM server: registered on first use, unloaded when idle.

Base-model traffic runs through a zero adapter (LoRA B = 0, so exactly the base):
in vLLM 0.32's CPU LoRA ops a request without an adapter, batched with one that has
an adapter, indexes the last adapter slot with -1 and may get that adapter's answer.
With every request on an adapter, no request ever takes that path.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from pathlib import Path

from kit.adapters import MANIFEST, quiet_peft, shared_copy
from kit.engines.tokens import pad_id
from kit.engines.vllm_client import VllmServer
from kit.engines.vllm_engine import VllmEngine
from kit.errors import KitError
from kit.files import folder_swapped_in
from kit.model import Model
from kit.rng import RNG_LOCK

log = logging.getLogger(__name__)
ZERO = "baeum-base"


class VllmAdapters:
    """Which adapters the vLLM server holds, under which names, most recent last."""

    def __init__(
        self,
        base: Model,
        server: VllmServer,
        folder: Path,
        *,
        max_rank: int = 8,
        keep: int = 16,
    ) -> None:
        self.base, self.server, self.folder = base, server, Path(folder)
        self.max_rank, self.keep = max_rank, keep
        self._loaded: OrderedDict[str, str] = OrderedDict()  # vLLM name -> folder
        self._lock = threading.Lock()
        vocab = int(base.hf.config.vocab_size)
        self.engine = VllmEngine(
            server, vocab_size=vocab, pad_id=pad_id(base.tokenizer)
        )

    def base_engine(self) -> VllmEngine:
        """Return the engine for base-model requests: the zero adapter."""
        path = self.zero_adapter()
        self._register(ZERO, path, pinned=True)
        return self.engine.with_adapter(
            ZERO, lambda: self._register(ZERO, path, pinned=True, again=True)
        )

    def model_for(self, key: str, folder: Path, stamp: tuple) -> Model:
        """Return a Model that runs adapter `key` (saved in `folder`) on the server."""
        rank = int(json.loads((folder / "adapter_config.json").read_text()).get("r", 0))
        if rank > self.max_rank:
            raise KitError("engine_lora_rank", id=key, rank=rank, limit=self.max_rank)
        # A re-saved adapter gets a new name: vLLM caches an adapter by its name.
        name = "s-" + hashlib.sha256(repr((key, stamp)).encode()).hexdigest()[:16]
        path = str(folder)
        self._register(name, path)
        engine = self.engine.with_adapter(
            name, lambda: self._register(name, path, again=True)
        )
        return self.base.with_engine(engine, name=key)

    def zero_adapter(self) -> Path:
        """Return the zero adapter for this base (made once, atomically, with peft)."""
        from peft import LoraConfig, get_peft_model

        from kit.finetune import target_modules_for

        target = self.folder / f"zero-{self.base.fingerprint()}"
        if (target / "adapter_config.json").is_file():
            return target
        config = LoraConfig(r=8, lora_alpha=16, task_type="CAUSAL_LM",
                            target_modules=target_modules_for(self.base))  # fmt: skip
        with folder_swapped_in(target) as fresh:
            with RNG_LOCK, quiet_peft():  # peft draws A at random; B starts at zero
                peft_model = get_peft_model(shared_copy(self.base.hf), config)
            peft_model.save_pretrained(fresh)
            (fresh / MANIFEST).write_text(json.dumps({"zero": True}))
        return target

    def _register(
        self, name: str, path: str | Path, *, pinned: bool = False, again: bool = False
    ) -> None:
        """Load `name` on the server unless it is there; unload the least recent."""
        with self._lock:
            if name in self._loaded and not again:
                self._loaded.move_to_end(name)
                return
            # One name, one content (a zero adapter, or a hash of the saved folder): a
            # server that already holds it (another service, a race) is no error.
            self.server.load_adapter(name, str(path), exists_ok=True)
            self._loaded[name] = "pinned" if pinned else str(path)
            idle = [n for n, p in self._loaded.items() if p != "pinned"]
            for old in idle[: max(0, len(idle) - self.keep)]:
                self.server.unload_adapter(old)
                del self._loaded[old]
                log.info("unloaded idle adapter %s from vLLM", old)
