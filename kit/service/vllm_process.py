"""Managed vLLM: the service starts its own vLLM server, watches it, restarts it."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from kit.engines.vllm_client import VllmServer
from kit.errors import KitError

log = logging.getLogger(__name__)
START_SECONDS = 600.0  # a cold start on 2 busy cores took 56-200 s
# Files vLLM reads beside the weights; the kit's cache names its weights by dtype.
BESIDE = ("config.json", "generation_config.json", "tokenizer.json",
          "tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json",
          "vocab.json", "merges.txt", "tokenizer.model")  # fmt: skip


# Run before vLLM replaces it (exec): the server gets SIGTERM when the service dies,
# even by SIGKILL, so no orphan keeps the port and its 5 GB (its own process group,
# kept for a clean group stop, would otherwise outlive the service).
ORPHAN_GUARD = (
    "import ctypes, os, signal, sys\n"
    "if sys.platform == 'linux':\n"
    "    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PDEATHSIG\n"
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])\n"
)


def vllm_folder(folder: Path, weights: Path | None, into: Path) -> Path:
    """Return a folder vLLM can serve: `folder` itself, or links with one model.safetensors.

    The kit's converted cache holds model.float32.safetensors (named by dtype); vLLM
    wants model.safetensors (or shards with an index), so it gets a folder of links.
    """
    folder = Path(folder)
    if weights is None or weights.name == "model.safetensors":
        return folder
    into.mkdir(parents=True, exist_ok=True)
    for name in BESIDE:
        if (folder / name).is_file():
            _link(folder / name, into / name)
    _link(weights, into / "model.safetensors")
    return into


def _link(target: Path, link: Path) -> None:
    partial = link.with_name(link.name + ".partial")
    partial.unlink(missing_ok=True)
    partial.symlink_to(target.resolve())
    os.replace(partial, link)  # a restart never sees a half-made folder


class ManagedVllm:
    """One vLLM server process owned by the service: started, watched, restarted."""

    def __init__(
        self,
        python: str,
        folder: Path,
        *,
        name: str,
        port: int,
        log_file: Path,
        max_lora_rank: int = 8,
        max_loras: int = 4,
        threads: str | None = None,
        extra: list[str] | None = None,
    ) -> None:
        self.python, self.folder, self.name, self.port = python, folder, name, port
        self.log_file = log_file
        self.max_lora_rank = max_lora_rank
        self.args = [
            "--model", str(folder), "--served-model-name", name,
            "--host", "127.0.0.1", "--port", str(port),
            "--enable-lora", "--max-lora-rank", str(max_lora_rank),
            "--max-loras", str(max_loras), "--max-logprobs", "100",
            "--dtype", "float32",
            # The kit's settings only: not sampling defaults a model folder may carry
            # (Qwen2.5-Instruct's repetition_penalty would change greedy answers).
            "--generation-config", "vllm", *(extra or []),
        ]  # fmt: skip
        self.threads = threads
        self.server = VllmServer(f"http://127.0.0.1:{port}", model=name)
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def environment(self) -> dict[str, str]:
        """Return the server's environment: CPU settings, run-time LoRA loading, offline."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTERHUB_")}
        env.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")  # GiB of KV cache on the CPU
        cores = os.cpu_count() or 1
        env.setdefault("VLLM_CPU_OMP_THREADS_BIND", self.threads or f"0-{cores - 1}")
        env.update(VLLM_ALLOW_RUNTIME_LORA_UPDATING="True", HF_HUB_OFFLINE="1",
                   VLLM_NO_USAGE_STATS="1", DO_NOT_TRACK="1")  # fmt: skip
        return env

    def start(self, wait: bool = True) -> None:
        """Start the server (and its watcher); with `wait`, return once it answers."""
        self._spawn()
        if wait:  # a first start that fails is the teacher's to fix: no restarts
            self.wait_ready(first=True)
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, daemon=True,
                                             name="kit-vllm-watch")  # fmt: skip
            self._watcher.start()

    def wait_ready(
        self, timeout: float = START_SECONDS, *, first: bool = False
    ) -> None:
        """Block until GET /health answers (through restarts), or fail naming the log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.healthy():
                return
            process = self.process
            if first and process is not None and process.poll() is not None:
                self._fail(f"it exited with code {process.returncode}", timeout)
            time.sleep(1)
        self._fail("no answer on /health", timeout)

    def _fail(self, why: str, timeout: float) -> None:
        raise KitError("engine_not_started", seconds=int(timeout), why=why,
                       log=str(self.log_file), python=self.python)  # fmt: skip

    def stop(self, timeout: float = 30) -> None:
        """Stop the server and do not restart it."""
        self._stopping.set()
        process = self.process
        if process is None:
            return
        # Its own process group: the engine-core workers it forks go down with it.
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout)

    def _spawn(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as out:
            command = [self.python, "-c", ORPHAN_GUARD, "-m",
                       "vllm.entrypoints.openai.api_server", *self.args]  # fmt: skip
            log.info("starting vLLM: %s", " ".join(command))
            self.process = subprocess.Popen(command, env=self.environment(),
                                            stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)  # fmt: skip

    def _watch(self) -> None:
        """Restart the server when it dies (not when the service stops it)."""
        while not self._stopping.wait(2):
            process = self.process
            if process is not None and process.poll() is not None:
                log.error("vLLM exited (code %s); restarting", process.returncode)
                _signal_group(process, signal.SIGKILL)  # workers left by a crash
                self.restarts += 1
                time.sleep(min(30, 2 * self.restarts))  # a crash loop must not spin
                if not self._stopping.is_set():
                    self._spawn()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass  # already gone
