"""Hub mode under load: 16 students chatting at once against one Baeum service.

Run: .venv/bin/python benchmarks/hub_load.py [--students 16] [--rounds 3] [--tokens 48]
     [--engine vllm]  (adds the service on a vLLM server it starts from .venv/vllm)

In the same run it measures the service as shipped (fair batches) and the same
service handling one request at a time (`kit serve --serial`), each in its own
process on this machine, with the same prompts. Identity comes from a stand-in for
the hub (the service's auth is exercised for real in tests/test_hub_e2e.py).
Targets: aggregate tokens/s at least 4x the one-at-a-time figure, p95 latency
reported, no request lost, every student's ledger exact afterwards; with vLLM at
least 2x the in-process service's aggregate. It also prints
the memory of the service against 16 kernels that each hold the model (summed PSS:
memory shared between processes is counted once).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil

os.environ.setdefault("HF_HUB_OFFLINE", "1")
TEACHER = "teacher"
TOPICS = ["the sea", "a robot", "Seoul at night", "a library", "winter", "a bakery",
          "the moon", "a bicycle", "rain", "a teacher", "a garden", "the subway",
          "a cat", "mountains", "a market", "music"]  # fmt: skip


def student(i: int) -> str:
    return f"student{i:02d}"


class FakeHub:
    """Stands in for HubAuth: every token is a known user with access to the service."""

    def __init__(self, names: list[str]) -> None:
        self.users = {
            f"token-{name}": {
                "name": name, "kind": "user",
                "groups": ["teachers"] if name == TEACHER else [],
                "scopes": ["access:services!service=baeum"],
            }
            for name in names
        }  # fmt: skip

    async def user_for_token(self, token, use_cache=True, session_id="", *, sync=True):
        return self.users.get(token)


ROOT = Path(__file__).resolve().parents[1]
VLLM_PYTHON = str(ROOT / ".venv/vllm/bin/python")


def serve(port: int, folder: Path, serial: bool, students: int, engine: str) -> None:
    """Run one service until killed (the child process of main)."""
    from kit.service.config import ServiceConfig
    from kit.service.server import http_server, make_app, run_until

    vllm = {"vllm_python": VLLM_PYTHON} if engine == "vllm" else {}
    config = ServiceConfig(dir=folder, port=port, serial=serial, engine=engine, **vllm)
    names = [student(i) for i in range(students)] + [TEACHER]

    async def run() -> None:
        app = make_app(config, auth=FakeHub(names))
        server = http_server(app)
        server.listen(port, "127.0.0.1")
        stop = asyncio.Event()  # terminate() stops the service, and its vLLM with it
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await run_until(app, server, stop)

    asyncio.run(run())


def start(
    serial: bool, students: int, folder: Path, engine: str = "in-process"
) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    folder.mkdir(parents=True)
    (folder / "quota.toml").write_text("[class]\ngenerations = -1\ntokens = -1\n")
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), str(folder),
         "--students", str(students), "--engine", engine]
        + (["--serial"] if serial else []),
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/services/baeum/"
    deadline = time.monotonic() + 600  # a vLLM start: 60-200 s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "api/info", headers=auth(TEACHER)).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("the service did not start within 600 s")


def auth(name: str) -> dict[str, str]:
    return {"Authorization": f"token token-{name}"}


def chat_all(url: str, students: int, rounds: int, tokens: int) -> dict:
    """Every student chats `rounds` times, all students at once; return the figures."""
    latencies: list[float] = []
    made: dict[str, int] = {}
    lost: list[str] = []
    lock = threading.Lock()

    def one_student(i: int) -> None:
        name = student(i)
        with httpx.Client(timeout=600) as client:
            for r in range(rounds):
                body = {
                    "messages": [{"role": "user", "content":
                                  f"Write two sentences about {TOPICS[(i + r) % 16]}."}],
                    "max_new_tokens": tokens,
                }  # fmt: skip
                started = time.perf_counter()
                answer = client.post(url + "api/chat", json=body, headers=auth(name))
                seconds = time.perf_counter() - started
                with lock:
                    if answer.status_code != 200:
                        lost.append(f"{name}: {answer.status_code} {answer.text[:200]}")
                        continue
                    latencies.append(seconds)
                    made[name] = made.get(name, 0) + answer.json()["tokens"]

    started = time.perf_counter()
    with ThreadPoolExecutor(students) as pool:
        list(pool.map(one_student, range(students)))
    wall = time.perf_counter() - started
    usage = httpx.get(url + "api/quota/class", headers=auth(TEACHER), timeout=60)
    ledger = usage.json()["students"]
    exact = all(
        ledger.get(student(i), {}).get("generations") == rounds
        and ledger.get(student(i), {}).get("tokens") == made.get(student(i))
        for i in range(students)
    )
    cuts = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else [0] * 19
    return {
        "requests": len(latencies), "lost": lost, "tokens": sum(made.values()),
        "wall": wall, "tokens_per_s": sum(made.values()) / wall,
        "p50": statistics.median(latencies), "p95": cuts[18], "exact": exact,
    }  # fmt: skip


def pss_mb(pid: int) -> float:
    """Return the PSS of a process and its children (a managed vLLM server too)."""
    root = psutil.Process(pid)
    tree = [root, *root.children(recursive=True)]
    return sum(p.memory_full_info().pss for p in tree) / 1e6


KERNEL = """
import os, time, kit
model = kit.load_model()
model.chat("Hello!", max_new_tokens=4, stream=False)
print("ready", flush=True)
time.sleep(600)
"""


def kernels_pss(count: int, folder: Path) -> float:
    """Start `count` kernels that each load the model; return their summed PSS."""
    env = {**os.environ, "KIT_QUOTA_DB": str(folder / "k.sqlite"),
           "KIT_QUOTA_FILE": str(folder / "none.toml")}  # fmt: skip
    env.pop("KIT_SERVICE_URL", None)
    kernels = [
        subprocess.Popen(
            [sys.executable, "-c", KERNEL], env=env, stdout=subprocess.PIPE, text=True
        )  # fmt: skip
        for _ in range(count)
    ]
    try:
        for kernel in kernels:
            if kernel.stdout.readline().strip() != "ready":
                raise SystemExit("a kernel failed to load the model")
        return sum(pss_mb(k.pid) for k in kernels)
    finally:
        for kernel in kernels:
            kernel.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "DIR"))
    parser.add_argument("--serial", action="store_true")
    parser.add_argument(
        "--engine", choices=("in-process", "vllm"), default="in-process"
    )
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), Path(args.serve[1]), args.serial, args.students,
              args.engine)  # fmt: skip
        return
    work = Path(tempfile.mkdtemp(prefix="hub-load-"))
    print(f"{args.students} students × {args.rounds} chats, {args.tokens} new tokens, "
          f"greedy, {psutil.cpu_count()} CPUs\n")  # fmt: skip
    results = {}
    runs = [("one request at a time", True, "in-process"),
            ("Baeum service", False, "in-process")]  # fmt: skip
    if args.engine == "vllm":
        runs.append(("Baeum service on vLLM", False, "vllm"))
    for label, serial, engine in runs:
        folder = work / label.replace(" ", "-")
        process, url = start(serial, args.students, folder, engine)
        try:
            results[label] = chat_all(url, args.students, args.rounds, args.tokens)
            results[label]["pss"] = pss_mb(process.pid)
            stats = httpx.get(url + "api/info", headers=auth(TEACHER)).json()
            results[label]["batching"] = stats.get("batching", {})
        finally:
            process.terminate()
            process.wait(60)
    print(f"{'':24}{'tokens/s':>10}{'p50 s':>8}{'p95 s':>8}{'requests':>10}"
          f"{'lost':>6}{'ledger exact':>14}")  # fmt: skip
    for label, r in results.items():
        print(f"{label:24}{r['tokens_per_s']:>10.1f}{r['p50']:>8.1f}{r['p95']:>8.1f}"
              f"{r['requests']:>10}{len(r['lost']):>6}{str(r['exact']):>14}")  # fmt: skip
    base, shipped = results["one request at a time"], results["Baeum service"]
    ratio = shipped["tokens_per_s"] / base["tokens_per_s"]
    print(f"\naggregate throughput: {ratio:.1f}x one-at-a-time (target ≥ 4x) "
          f"{'✓' if ratio >= 4 else '✗'}")  # fmt: skip
    print(f"batching: {json.dumps(shipped['batching'])}")
    if "Baeum service on vLLM" in results:
        on_vllm = results["Baeum service on vLLM"]["tokens_per_s"]
        over = on_vllm / shipped["tokens_per_s"]
        print(f"on vLLM: {over:.1f}x the in-process service (target ≥ 2x) "
              f"{'✓' if over >= 2 else '✗'}; {on_vllm / base['tokens_per_s']:.1f}x "
              f"one-at-a-time")  # fmt: skip
    for r in results.values():
        for line in r["lost"][:5]:
            print("lost:", line)
    kernels = kernels_pss(args.students, work)
    print(f"\nmemory (PSS): service {shipped['pss']:.0f} MB · {args.students} kernels "
          f"each holding the model {kernels:.0f} MB ({kernels / shipped['pss']:.1f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
