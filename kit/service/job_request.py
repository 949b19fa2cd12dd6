"""Check a fine-tune request (rows, settings, prompt) before the service queues it."""

from __future__ import annotations

import inspect

from kit import datasets
from kit.checks import check_number
from kit.errors import SettingError
from kit.finetune import check_training, finetune, target_modules_for, training_examples
from kit.model import Model
from kit.prompt import Prompt, training_prompt

SETTINGS = ("steps", "learning_rate", "batch_size", "rank", "alpha", "dropout",
            "target_modules", "seed", "prompt")  # fmt: skip
PROMPT = {  # the parts of a kit.Prompt, with its defaults
    "system": None,
    "template": "{text}",
    "examples": [],
    "answer": "{label}",
    "max_new_tokens": 16,
}
DEFAULTS = {
    k: p.default for k, p in inspect.signature(finetune).parameters.items()
    if k in SETTINGS
}  # fmt: skip


def check_request(
    model: Model,
    rows: object,
    settings: object,
    *,
    lang: str | None = None,
    max_rows: int = 2000,
    dataset: object = None,
) -> tuple[datasets.Dataset, Prompt, dict]:
    """Return (data, prompt, kit.finetune settings), or raise naming the problem."""
    checked = _settings(settings)
    data = _rows(rows, lang, max_rows)
    if dataset is not None:  # the kernel's data set name, kept in the manifest
        if not isinstance(dataset, str):
            raise SettingError("bad_type", name="dataset", kind="str", value=dataset)
        data.name = dataset[:200] or data.name
    prompt = _prompt(model, checked.pop("prompt"), data)
    checked["target_modules"] = target_modules_for(model, checked["target_modules"])
    training_examples(
        model, prompt, list(data)
    )  # a row too long, a field the template lacks
    return data, prompt, checked


def _settings(settings: object) -> dict:
    """Return the settings with kit.finetune's defaults filled in."""
    if not isinstance(settings, dict):
        raise SettingError("bad_type", name="settings", kind="dict",
                           value=type(settings).__name__)  # fmt: skip
    for key in settings:
        if key not in SETTINGS:
            raise SettingError("job_bad_setting", name=str(key)[:40],
                               allowed=", ".join(SETTINGS))  # fmt: skip
    out = {**DEFAULTS, **settings}
    check_training(out["steps"], out["learning_rate"], out["batch_size"], out["rank"],
                   out["dropout"])  # fmt: skip
    if out["alpha"] is not None:  # kit.finetune: None means 2 x rank
        check_number("alpha", out["alpha"], 1, 1024, 16, integer=True)
        out["alpha"] = int(out["alpha"])
    check_number("seed", out["seed"], 0, 2**32 - 1, 0, integer=True)
    modules = out["target_modules"]
    if modules is not None and (
        not isinstance(modules, list) or not all(isinstance(m, str) for m in modules)
    ):
        raise SettingError("bad_type", name="target_modules", kind="list[str]",
                           value=type(modules).__name__)  # fmt: skip
    for key in ("steps", "batch_size", "rank", "seed"):
        out[key] = int(out[key])  # 2.0 from JSON means 2
    return out


def _rows(rows: object, lang: str | None, max_rows: int) -> datasets.Dataset:
    """Return the rows as a Dataset (never a file name: this runs on the service)."""
    if not isinstance(rows, list):
        raise SettingError("bad_type", name="rows", kind="list[dict]",
                           value=type(rows).__name__)  # fmt: skip
    if len(rows) > max_rows:
        raise SettingError("finetune_data_size", rows=len(rows), limit=max_rows)
    try:
        return datasets.load(rows, lang=lang)
    except datasets.DatasetError as error:
        fields = dict(error.fields)
        if error.at:  # "item 3 of the list" was worded in one language: rows[3] is not
            fields["where"] = f"rows[{error.at[1].get('n', '?')}]"
        raise SettingError(error.key, **fields) from None


def _prompt(model: Model, asked: object, data: datasets.Dataset) -> Prompt:
    """Return the prompt to train with: the one asked, or the short labels-only one."""
    if asked is None:  # as kit.finetune does
        return training_prompt(model, data.labels, data.lang)
    if not isinstance(asked, dict):
        raise SettingError("bad_type", name="prompt", kind="dict",
                           value=type(asked).__name__)  # fmt: skip
    for key in asked:
        if key not in PROMPT:
            raise SettingError("job_bad_setting", name=f"prompt.{key}",
                               allowed=", ".join(PROMPT))  # fmt: skip
    parts = {**PROMPT, **asked}
    for key in ("system", "template", "answer"):
        if not isinstance(parts[key], str) and (
            key != "system" or parts[key] is not None
        ):
            raise SettingError("bad_type", name=f"prompt.{key}", kind="str",
                               value=type(parts[key]).__name__)  # fmt: skip
    examples = parts["examples"]
    if not isinstance(examples, list) or not all(isinstance(e, dict) for e in examples):
        raise SettingError("bad_type", name="prompt.examples", kind="list[dict]",
                           value=type(examples).__name__)  # fmt: skip
    check_number("prompt.max_new_tokens", parts["max_new_tokens"], 1, 512, 16, True)
    return Prompt(model, parts["template"], system=parts["system"],
                  examples=examples, answer=parts["answer"],
                  max_new_tokens=int(parts["max_new_tokens"]))  # fmt: skip
