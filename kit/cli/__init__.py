"""The `kit` command for teachers and admins: doctor, prepare, models, quota."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kit import messages
from kit.errors import KitError


def _doctor(args: argparse.Namespace) -> int:
    from kit.cli.doctor import report

    text, problems = report()
    print(text)
    return 1 if problems else 0


def _prepare(args: argparse.Namespace) -> int:
    import torch

    from kit.models import bundled, shipped
    from kit.models.device import DTYPES
    from kit.models.packaged import shipped_in_parts

    dtypes = tuple(DTYPES[d] for d in args.dtype) if args.dtype else (torch.float32,)
    root = Path(args.cache_dir) if args.cache_dir else None
    folder = bundled.prepare(root, dtypes)
    bundled.fast_gguf(root)  # the copy llama.cpp decodes, made now rather than in class
    print(messages.t("prepared_at", path=folder))
    for weights in shipped_in_parts():  # the Korean model too: no wait in its lesson
        if shipped.state(weights, root).installed:
            print(messages.t("prepared_at", path=shipped.prepare(weights, root)))
    return 0


def _models(args: argparse.Namespace) -> int:
    from kit.loading import models

    for row in models():
        here = "✓" if row["on_this_machine"] else "·"
        korean = "ko" if row["korean"] else "  "
        print(f"{here} {row['name']:<18} {row['size']:>5} {korean}  {row['repo']:<40} "
              f"{row['licence']}")  # fmt: skip
    return 0


def _app(args: argparse.Namespace) -> int:
    from kit.app import app
    from kit.loading import load_model

    model = load_model(args.model, adapter=args.adapter)
    demo = app(model, title=args.title, port=args.port, launch=False)
    print(f"http://127.0.0.1:{args.port}")
    demo.launch(server_name="127.0.0.1", server_port=args.port, share=False)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from kit.service.config import ServiceConfig
    from kit.service.server import serve

    flags = {
        "host": args.host, "port": args.port, "dir": args.dir, "model": args.model,
        "max_batch": args.max_batch, "per_student": args.per_student,
        "workers": args.workers, "serial": args.serial or None, "engine": args.engine,
        "engine_url": args.engine_url, "vllm_python": args.vllm_python,
        "max_lora_rank": args.max_lora_rank, "finetune_runner": args.finetune_runner,
        "worker_lease": args.worker_lease,
    }  # fmt: skip
    serve(ServiceConfig.from_env(flags))
    return 0


def _add_serve(sub) -> None:
    serve = sub.add_parser(
        "serve", help="run the Baeum service for a JupyterHub (hub mode)"
    )
    serve.add_argument("--host", help="default: JUPYTERHUB_SERVICE_URL, else 127.0.0.1")
    serve.add_argument("--port", type=int, help="default: JUPYTERHUB_SERVICE_URL, 8765")
    serve.add_argument("--dir", type=Path, help="default: KIT_SERVICE_DIR")
    serve.add_argument("--model", help="model name, id or folder (default: bundled)")
    serve.add_argument("--max-batch", type=int, help="rows per batch (default 16)")
    serve.add_argument("--per-student", type=int, help="requests in flight (default 4)")
    serve.add_argument("--workers", type=int, help="fine-tunes at once (default 1)")
    serve.add_argument("--serial", action="store_true", help="one row at a time")
    serve.add_argument(
        "--engine",
        choices=("in-process", "vllm"),
        help="what generates (default: KIT_SERVICE_ENGINE, in-process)",
    )
    serve.add_argument(
        "--engine-url", help="a running vLLM server (default: start one)"
    )
    serve.add_argument("--vllm-python", help="managed vLLM: the Python that has vllm")
    serve.add_argument(
        "--max-lora-rank", type=int, help="largest adapter rank vLLM takes (default 8)"
    )
    serve.add_argument(
        "--finetune-runner",
        choices=("in-process", "workers"),
        help="who trains fine-tunes (default: KIT_FINETUNE_RUNNER, in-process); "
        "workers: `kit finetune-worker`, with KIT_WORKER_TOKEN",
    )
    serve.add_argument(
        "--worker-lease", type=float, help="seconds a silent worker keeps its job (600)"
    )
    serve.set_defaults(func=_serve)


def parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `kit` command."""
    from kit.cli import finetune_worker
    from kit.cli import quota as quota_cli

    top = argparse.ArgumentParser(prog="kit", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="check the set-up").set_defaults(func=_doctor)
    prep = sub.add_parser("prepare", help="convert the bundled model into the cache")
    prep.add_argument("--cache-dir", help="default: KIT_CACHE_DIR or ~/.cache/baeum")
    prep.add_argument("--dtype", action="append", choices=["float32", "bfloat16"])
    prep.set_defaults(func=_prepare)
    sub.add_parser("models", help="list known models").set_defaults(func=_models)
    page = sub.add_parser("app", help="serve a chat page for a model or adapter")
    page.add_argument("--model", help="model name, id or folder (default: bundled)")
    page.add_argument("--adapter", help="a saved adapter folder")
    page.add_argument("--title")
    page.add_argument("--port", type=int, default=7860)
    page.set_defaults(func=_app)
    quota_cli.add_subcommands(sub)
    _add_serve(sub)
    finetune_worker.add_subcommand(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    """Run the `kit` command and return its exit code."""
    args = parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KitError as error:
        print(f"✗ {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
