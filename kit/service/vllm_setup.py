"""The service on vLLM: the server (given or started), the zero adapter, the engine."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from kit.engines.vllm_client import VllmServer
from kit.loading import weights_folder
from kit.model import Model
from kit.service.config import ServiceConfig
from kit.service.vllm_adapters import VllmAdapters
from kit.service.vllm_process import ManagedVllm, vllm_folder


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
    if config.engine_url:
        server = VllmServer(config.engine_url)
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
    return VllmBackend(local.with_engine(adapters.base_engine()), adapters, managed)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
