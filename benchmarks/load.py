"""Load time and memory: plain transformers on the GGUF vs kit.load_model cold and warm.

Run: .venv/bin/python benchmarks/load.py   (each figure comes from a fresh process)
Targets: a warm load to the first token <= 1.0 s and >= 10x faster than the plain GGUF
load; the 2nd..4th kernel on one machine each add <= 40% of the plain load's memory.
The "transformers engine" row is the kit's eager path (the torch model built at load),
measured in the same run as the baseline of the lazy one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import psutil

KERNELS = 4
MB = 1e6


def worker(mode: str) -> None:
    """Load one way, print a JSON line of figures, then hold until stdin closes."""
    started = time.perf_counter()
    if mode == "plain":
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from kit.models.bundled import gguf_path
    else:
        import kit
    imported = time.perf_counter()
    if mode == "plain":
        path = gguf_path()
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name)
    else:
        engine = "transformers" if mode == "kit-torch" else None
        handle = kit.load_model(engine=engine)
    loaded = time.perf_counter()
    again = None
    if mode != "plain":  # the kit's own work, without transformers' first-use imports
        kit.load_model(engine=engine)
        again = time.perf_counter() - loaded
    import torch

    started_first = time.perf_counter()
    with torch.inference_mode():  # the first answer touches every weight once
        if mode == "plain":
            model.generate(**tokenizer("Hi", return_tensors="pt"), max_new_tokens=1)
        else:
            handle.chat("Hi", max_new_tokens=1, stream=False)
    first = time.perf_counter() - started_first
    info = psutil.Process().memory_full_info()
    print(
        json.dumps(
            {
                "import_s": imported - started,
                "load_s": loaded - imported,
                "again_s": again,
                "first_s": first,
                "rss": info.rss,
                "uss": info.uss,
                "pss": info.pss,
            }
        ),
        flush=True,
    )
    sys.stdin.read()


def spawn(mode: str, cache: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "KIT_CACHE_DIR": cache,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_VERBOSITY": "error",
    }
    return subprocess.Popen([sys.executable, __file__, "--worker", mode], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)  # fmt: skip


def once(mode: str, cache: str) -> dict:
    proc = spawn(mode, cache)
    figures = json.loads(proc.stdout.readline())
    proc.stdin.close()
    proc.wait()
    return figures


def together(mode: str, cache: str, count: int) -> list[dict]:
    """Start `count` kernels one after another, all alive; measure each with all up."""
    procs, figures = [], []
    for _ in range(count):
        proc = spawn(mode, cache)
        figures.append(json.loads(proc.stdout.readline()))
        procs.append(proc)
    for proc, fig in zip(procs, figures):
        info = psutil.Process(proc.pid).memory_full_info()
        fig.update(rss=info.rss, uss=info.uss, pss=info.pss)
    for proc in procs:
        proc.stdin.close()
        proc.wait()
    return figures


def main() -> None:
    cache = tempfile.mkdtemp(prefix="baeum-bench-")
    print(f"2-core CPU: {psutil.cpu_count()} cores · cache {cache}\n")
    rows = [
        ("plain transformers, GGUF", once("plain", cache)),
        ("kit.load_model() cold (converts)", once("kit", cache)),
        ("kit.load_model() warm", once("kit", cache)),
        ("kit warm, transformers engine", once("kit-torch", cache)),
    ]
    print(f"{'how':36} {'import s':>9} {'load s':>8} {'1st token s':>12} "
          f"{'RSS MB':>8} {'USS MB':>8}")  # fmt: skip
    for label, f in rows:
        print(f"{label:36} {f['import_s']:9.2f} {f['load_s']:8.2f} "
              f"{f['first_s']:12.2f} {f['rss'] / MB:8.0f} {f['uss'] / MB:8.0f}")  # fmt: skip
    plain, warm, eager = rows[0][1], rows[2][1], rows[3][1]
    ready = warm["load_s"] + warm["first_s"]
    speedup = (plain["load_s"] + plain["first_s"]) / ready
    print(f"\nwarm load to the first token {ready:.2f} s (target <= 1.0 s); "
          f"{speedup:.0f}x faster than the plain GGUF load (target >= 10x); the eager "
          f"transformers path: {eager['load_s'] + eager['first_s']:.2f} s")  # fmt: skip
    # The first load in a process also pays transformers' lazy imports (torch._dynamo,
    # torch.distributed.tensor), which the plain load pays inside its figure too.
    ready_plain = plain["import_s"] + plain["load_s"]
    ready_warm = warm["import_s"] + warm["load_s"]
    print(f"a second kit.load_model() in the same kernel: {warm['again_s']:.2f} s "
          f"({plain['load_s'] / warm['again_s']:.0f}x); import + load, warm kit vs "
          f"plain: {ready_warm:.2f} s vs {ready_plain:.2f} s")  # fmt: skip

    budget = 0.4 * plain["rss"]
    for mode, label in (("kit", "kit.load_model()"), ("plain", "plain GGUF load")):
        kernels = together(mode, cache, KERNELS)
        print(
            f"\n{KERNELS} kernels at once, {label}: memory each adds "
            "(USS: pages no other process shares)"
        )
        for i, k in enumerate(kernels, 1):
            ok = "" if i == 1 else (" ✓" if k["uss"] <= budget else " ✗")
            print(f"  kernel {i}: RSS {k['rss'] / MB:5.0f} MB · USS {k['uss'] / MB:5.0f}"
                  f" MB · PSS {k['pss'] / MB:5.0f} MB{ok}")  # fmt: skip
        total = sum(k["pss"] for k in kernels)
        print(f"  all {KERNELS} together (sum of PSS): {total / MB:.0f} MB")
    print(
        f"\ntarget: kernels 2..{KERNELS} each add <= 40% of the plain load's RSS "
        f"= {budget / MB:.0f} MB"
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        worker(sys.argv[2])
    else:
        main()
