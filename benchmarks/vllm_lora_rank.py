"""What vLLM's --max-lora-rank costs: base and zero-adapter throughput at each rank.

Run: .venv/bin/python benchmarks/vllm_lora_rank.py [--ranks 8 16 64] [--tokens 48]

For each rank it starts vLLM (from .venv/vllm) as the service does, registers the
service's zero adapter, and sends 16 prompts three ways (16 requests of one prompt,
4 of 4, 1 of 16), greedy, EOS ignored. The baseline is the base model on the same
server: every adapter, even a zero one, is padded to --max-lora-rank.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
VLLM_PYTHON = str(ROOT / ".venv" / "vllm" / "bin" / "python")
SHAPES = ((16, 1), (4, 4), (1, 16))  # (requests at once, prompts in each)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure(rank: int, tokens: int, work: Path) -> dict[tuple[str, int, int], float]:
    """Return tok/s for (model, requests, prompts) on one vLLM server at `rank`."""
    import kit
    from kit.loading import weights_folder
    from kit.service.vllm_adapters import VllmAdapters
    from kit.service.vllm_process import ManagedVllm, vllm_folder

    local = kit.load_model("smollm2-135m", engine="transformers")
    folder, weights = weights_folder("smollm2-135m")
    served = vllm_folder(folder, weights, work / "model")
    port = free_port()
    server = ManagedVllm(VLLM_PYTHON, served, name="base", port=port,
                         log_file=work / "vllm.log", max_lora_rank=rank)  # fmt: skip
    server.start()
    try:
        zero = VllmAdapters(local, server.server, work / "adapters", max_rank=rank)
        server.server.load_adapter("zero", str(zero.zero_adapter()))
        ids = local.tokenizer("Write a short story about the sea.")["input_ids"]
        url = f"http://127.0.0.1:{port}/v1/completions"

        def ask(model: str, prompts: int) -> int:
            body = {"model": model, "prompt": [ids] * prompts, "max_tokens": tokens,
                    "temperature": 0, "ignore_eos": True}  # fmt: skip
            answer = httpx.post(url, json=body, timeout=600)
            answer.raise_for_status()
            return answer.json()["usage"]["completion_tokens"]

        ask("base", 1)  # warm up
        figures = {}
        for model in ("base", "zero"):
            for requests, prompts in SHAPES:
                started = time.perf_counter()
                with ThreadPoolExecutor(requests) as pool:
                    made = sum(pool.map(ask, [model] * requests, [prompts] * requests))
                figures[model, requests, prompts] = made / (
                    time.perf_counter() - started
                )
        return figures
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, nargs="+", default=[8, 16, 64])
    parser.add_argument("--tokens", type=int, default=48)
    args = parser.parse_args()
    if not Path(VLLM_PYTHON).exists():
        sys.exit("no .venv/vllm: run `make install-vllm` first")
    work = Path(tempfile.mkdtemp(prefix="lora-rank-"))
    results = {
        rank: measure(rank, args.tokens, work / str(rank)) for rank in args.ranks
    }
    print(f"\n16 prompts × {args.tokens} new tokens, greedy; tokens/s")
    print(f"{'':8}" + "".join(f"{f'{m} {r}×{p}':>14}" for m in ("base", "zero")
                              for r, p in SHAPES))  # fmt: skip
    for rank, figures in results.items():
        print(f"rank {rank:<3}" + "".join(f"{v:>14.1f}" for v in figures.values()))
    low, high = min(results), max(results)
    ratio = results[low]["zero", 16, 1] / results[high]["zero", 16, 1]
    print(f"\nzero adapter, 16 requests: rank {low} is {ratio:.1f}x rank {high}")


if __name__ == "__main__":
    main()
