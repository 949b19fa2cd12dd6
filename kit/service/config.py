"""ServiceConfig: the Baeum service's settings, from `kit serve` flags and the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlparse

DEFAULT_PORT = 8765
DEFAULT_PREFIX = "/services/baeum/"
ENGINES = ("in-process", "vllm")
RUNNERS = ("in-process", "workers")  # who trains fine-tunes: the service, or workers
MIN_WORKER_TOKEN = 16  # characters of KIT_WORKER_TOKEN: a shared secret, not a name


def _default_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "baeum" / "service"


@dataclass
class ServiceConfig:
    """Where the service keeps its files, where it listens, and its limits."""

    model: str | None = (
        None  # a kit.load_model name, id or folder; None: the language's
    )
    dir: Path = field(default_factory=_default_dir)
    quota_file: Path | None = None  # None: <dir>/quota.toml
    quota_db: str | None = None  # path or SQLAlchemy URL; None: <dir>/quota.sqlite
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    prefix: str = DEFAULT_PREFIX
    service_name: str = "baeum"
    teacher_group: str = "teachers"
    max_batch: int = 16
    per_student: int = 4
    workers: int = 1
    serial: bool = False
    max_prompt_tokens: int | None = None  # None: the model's context length
    max_rows: int = 2000  # rows of one fine-tune data set
    max_conversations: int = 256  # conversations of one chat_batch request
    max_body_size: int = 8 * 1024 * 1024
    stale_after: float = 600.0  # seconds before a crashed request's reservation expires
    engine: str = "in-process"  # or "vllm": generation handed to a vLLM server
    engine_url: str | None = None  # a running vLLM server; None: start one (managed)
    vllm_python: str | None = None  # managed: the Python that has vllm (its own venv)
    # The largest student adapter vLLM accepts. vLLM pads every LoRA to this rank, so
    # it sets the cost of all traffic: 16 students on the zero adapter made 105-126
    # tok/s at 8, 76-82 at 16, 44-48 at 64 (benchmarks/vllm_lora_rank.py).
    # 8 is kit.finetune's default rank.
    max_lora_rank: int = 8
    finetune_runner: str = "in-process"  # or "workers": `kit finetune-worker` trains
    worker_token: str | None = field(default=None, repr=False)  # KIT_WORKER_TOKEN
    worker_lease: float = 600.0  # seconds a silent worker keeps its job

    def __post_init__(self) -> None:
        self.dir = Path(self.dir).expanduser()
        if self.quota_file is None:
            self.quota_file = self.dir / "quota.toml"
        self.quota_file = Path(self.quota_file).expanduser()
        if self.quota_db is None:
            self.quota_db = str(self.dir / "quota.sqlite")
        if not self.prefix.startswith("/"):
            self.prefix = "/" + self.prefix
        if not self.prefix.endswith("/"):
            self.prefix += "/"
        self.engine = self.engine.strip().lower()
        if self.engine not in ENGINES:
            from kit.errors import SettingError

            raise SettingError("engine_unknown_service", value=self.engine,
                               names=", ".join(ENGINES))  # fmt: skip
        self._check_runner()

    def _check_runner(self) -> None:
        """Refuse a runner the service does not know, or workers without a token."""
        from kit.errors import SettingError

        self.finetune_runner = self.finetune_runner.strip().lower()
        if self.finetune_runner not in RUNNERS:
            raise SettingError("finetune_runner_unknown", value=self.finetune_runner,
                               names=", ".join(RUNNERS))  # fmt: skip
        token = self.worker_token or ""
        if self.finetune_runner == "workers" and len(token) < MIN_WORKER_TOKEN:
            raise SettingError("worker_token_missing", least=MIN_WORKER_TOKEN)
        if not 1 <= float(self.worker_lease) <= 86400:
            raise SettingError("bad_number", name="worker_lease", low=1, high=86400,
                               value=self.worker_lease, example=600)  # fmt: skip

    @property
    def adapters_dir(self) -> Path:
        """Return the folder of every student's adapters."""
        return self.dir / "adapters"

    @property
    def jobs_dir(self) -> Path:
        """Return the folder of fine-tune job records."""
        return self.dir / "jobs"

    @property
    def access_scope(self) -> str:
        """Return the hub scope a token needs to call this service."""
        return f"access:services!service={self.service_name}"

    @classmethod
    def from_env(
        cls, flags: Mapping[str, object] | None = None, env: Mapping | None = None
    ) -> ServiceConfig:
        """Build the settings: flags given win, then the environment, then defaults."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        if env.get("KIT_MODEL"):
            values["model"] = env["KIT_MODEL"]
        if env.get("KIT_SERVICE_DIR"):
            values["dir"] = Path(env["KIT_SERVICE_DIR"])
        if env.get("KIT_QUOTA_FILE"):
            values["quota_file"] = Path(env["KIT_QUOTA_FILE"])
        if env.get("KIT_QUOTA_DB"):
            values["quota_db"] = env["KIT_QUOTA_DB"]
        if env.get("JUPYTERHUB_SERVICE_URL"):
            url = urlparse(env["JUPYTERHUB_SERVICE_URL"])
            values["host"] = url.hostname or "127.0.0.1"
            values["port"] = url.port or (443 if url.scheme == "https" else 80)
        if env.get("JUPYTERHUB_SERVICE_PREFIX"):
            values["prefix"] = env["JUPYTERHUB_SERVICE_PREFIX"]
        if env.get("JUPYTERHUB_SERVICE_NAME"):
            values["service_name"] = env["JUPYTERHUB_SERVICE_NAME"]
        for name, key in (("engine", "KIT_SERVICE_ENGINE"), ("engine_url", "KIT_VLLM_URL"),
                          ("vllm_python", "KIT_VLLM_PYTHON")):  # fmt: skip
            if env.get(key):
                values[name] = env[key]
        if env.get("KIT_VLLM_MAX_LORA_RANK", "").isdigit():
            values["max_lora_rank"] = int(env["KIT_VLLM_MAX_LORA_RANK"])
        if env.get("KIT_TEACHER_GROUP"):
            values["teacher_group"] = env["KIT_TEACHER_GROUP"]
        for name, key in (("finetune_runner", "KIT_FINETUNE_RUNNER"),
                          ("worker_token", "KIT_WORKER_TOKEN")):  # fmt: skip
            if env.get(key, "").strip():
                values[name] = env[key].strip()
        if env.get("KIT_WORKER_LEASE", "").strip():
            values["worker_lease"] = _seconds(env["KIT_WORKER_LEASE"])
        known = {f.name for f in fields(cls)}
        for name, value in (flags or {}).items():
            if name not in known:
                raise TypeError(f"unknown service setting {name!r}")
            if value is not None:
                values[name] = value
        return cls(**values)


def _seconds(text: str) -> float:
    """Return a number of seconds from the environment, or say which setting is wrong."""
    try:
        return float(text)
    except ValueError:
        from kit.errors import SettingError

        raise SettingError("bad_number", name="KIT_WORKER_LEASE", low=1, high=86400,
                           value=text, example=600) from None  # fmt: skip
