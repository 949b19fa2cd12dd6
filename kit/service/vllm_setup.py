"""The service on vLLM: the server (given or started), the zero adapter, the engine."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

import torch

from kit.engines.vllm_client import VllmServer
from kit.errors import KitError, ServiceUnavailable
from kit.loading import weights_folder
from kit.model import Model
from kit.service.config import ServiceConfig
from kit.service.vllm_adapters import VllmAdapters
from kit.service.vllm_process import START_SECONDS, ManagedVllm, vllm_folder


@dataclass
class VllmBackend:
    """What the service holds when vLLM generates: base model, adapters, process."""

    model: Model  # the service's model, generating on the server
    adapters: VllmAdapters
    managed: ManagedVllm | None  # None: a server someone else runs (--engine-url)

    def stop(self) -> None:
        """Stop the managed server, if the service started one."""
        if self.managed is not None:
            self.managed.stop()


def start_vllm(config: ServiceConfig, local: Model) -> VllmBackend:
    """Connect to (or start) vLLM for `local`'s weights; route base traffic via zero."""
    managed = None
    name = local.name.replace("/", "-")
    if config.engine_url:  # run by someone else: wait for it, as a pod would
        server = VllmServer(config.engine_url)
        deadline = time.monotonic() + START_SECONDS
        while not server.healthy():
            if time.monotonic() > deadline:
                raise ServiceUnavailable("engine_unavailable", url=server.url)
            time.sleep(2)
    else:
        folder, weights = weights_folder(config.model)
        served = vllm_folder(folder, weights, config.dir / "vllm" / "model")
        managed = ManagedVllm(config.vllm_python or "python3", served, name=name,
                              port=_free_port(), log_file=config.dir / "vllm.log",
                              max_lora_rank=config.max_lora_rank)  # fmt: skip
        managed.start()
        server = managed.server
    adapters = VllmAdapters(local, server, config.dir / "vllm" / "adapters",
                            max_rank=config.max_lora_rank)  # fmt: skip
    served = local.with_engine(adapters.base_engine())
    check_same_weights(local, served, server.url)
    return VllmBackend(served, adapters, managed)


def check_same_weights(local: Model, served: Model, url: str) -> None:
    """Refuse a server whose weights are not the service's (wrong text, no error)."""
    ids = local.tokenizer("The capital of France is").input_ids
    here = torch.softmax(local.engine.next_token_logits(ids), -1)
    there = torch.softmax(served.engine.next_token_logits(ids), -1)
    top = int(here.argmax())
    gap = abs(float(here[top]) - float(there[top]))
    if int(there.argmax()) != top or gap > 0.01:
        raise KitError("engine_other_weights", url=url, model=local.name,
                       problem=f"p = {float(here[top]):.3f} here, "
                       f"{float(there[top]):.3f} there")  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
