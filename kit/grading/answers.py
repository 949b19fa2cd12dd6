"""Answers as plain data: what a student hands in, and its rebuilding for the grader.

The grader never runs the objects a student's kernel made. It reads their raw data
(the characters of a text, the items of a list, a prompt's parts, an adapter's files)
and rebuilds them with the teacher's own kit, so a subclass or a patched method cannot
change a mark. Types the kit does not know are refused with a message that says what
to hand in instead.
"""

from __future__ import annotations

import dataclasses
import linecache
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FunctionType

from kit.adapters import Adapter, attach
from kit.errors import KitError
from kit.evaluate import Comparison, Report
from kit.model import Model
from kit.prompt import Prompt

# Where hand_in saves adapters, inside the notebook's folder (nbgrader collects it).
ADAPTER_FOLDER = "handed-in"
# Lists and dicts deeper than this are refused: no real answer nests so far.
DEEPEST = 20


class Refused(KitError):
    """An answer that cannot be handed in as it is; the message says what to hand in."""


def to_data(value: object, name: str, folder: Path) -> dict:
    """Return `value` as plain JSON data, or raise Refused."""
    kind = type(value)
    if kind is Prompt:
        return _prompt_data(value, name, folder)
    if _is_model(kind) or _is_adapter(kind):
        return _model_data(value, name, folder)
    if kind is Report:
        return {"type": "report", **_report_data(value, name)}
    if kind is Comparison:
        reports = [_checked(r, Report, name) for r in list.__iter__(value.reports)]
        return {
            "type": "comparison",
            "reports": [_report_data(r, name) for r in reports],
        }
    if kind is FunctionType:
        return {"type": "code", "name": _text(value.__name__),
                "source": _defining_cell(value, name)}  # fmt: skip
    for base in (Prompt, Model, Report, Comparison):
        if isinstance(value, base):
            raise Refused("hand_in_subclass", name=name, kind=kind.__name__,
                          base=f"kit.{base.__name__}")  # fmt: skip
    return {"type": "value", "value": plain(value, name)}


def plain(value: object, name: str, depth: int = 0) -> object:
    """Return the raw data of a text, number, list or dict, ignoring overridden methods."""
    if depth > DEEPEST:
        raise Refused("hand_in_type", name=name, kind="deeply nested list")
    if value is None or type(value) is bool:
        return value
    # The base types' own methods read the stored data: str.__add__ of a str subclass
    # (kit's Reply, or a student's) gives its characters, whatever __eq__ it defines.
    if isinstance(value, str):
        return str.__add__("", value)
    if isinstance(value, int):
        return int.__add__(0, value)
    if isinstance(value, float):
        number = float.__add__(0.0, value)
        return number if math.isfinite(number) else str(number)
    if isinstance(value, (list, tuple)):
        items = (
            list.__iter__(value) if isinstance(value, list) else tuple.__iter__(value)
        )
        return [plain(item, name, depth + 1) for item in items]
    if isinstance(value, dict):
        data = {}
        for key, item in dict.items(value):
            if not isinstance(key, str):
                raise Refused("hand_in_type", name=name, kind="dict with non-text keys")
            data[str.__add__("", key)] = plain(item, name, depth + 1)
        return data
    raise Refused("hand_in_type", name=name, kind=type(value).__name__)


def from_data(data: Mapping, given: Mapping[str, object], code: Callable) -> object:
    """Rebuild a handed-in answer with the teacher's kit (`code` runs student code)."""
    kind = data["type"]
    if kind == "value":
        return data["value"]
    if kind == "model":
        return _model(data["name"], given)
    if kind == "prompt":
        return Prompt(from_data(data["model"], given, code), data["template"],
                      system=data["system"], examples=data["examples"],
                      answer=data["answer"], max_new_tokens=data["max_new_tokens"],
                      name=data["name"])  # fmt: skip
    if kind == "adapter":
        adapter = attach(from_data(data["base"], given, code), data["folder"])
        adapter.losses = list(data["losses"])
        return adapter
    if kind == "report":
        return _report(data)
    if kind == "comparison":
        return Comparison([_report(r) for r in data["reports"]])
    if kind == "code":
        return code(data["name"], data["source"])
    raise ValueError(f"unknown answer type {kind!r}")


def _is_model(kind: type) -> bool:
    from kit.hub.client import RemoteModel

    return kind is Model or kind is RemoteModel


def _is_adapter(kind: type) -> bool:
    from kit.hub.adapters import RemoteAdapter

    return kind is Adapter or kind is RemoteAdapter


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a text")
    return str.__add__("", value)


def _checked(value: object, kind: type, name: str):
    if type(value) is not kind:
        raise Refused("hand_in_subclass", name=name, kind=type(value).__name__,
                      base=f"kit.{kind.__name__}")  # fmt: skip
    return value


def _model_data(model: object, name: str, folder: Path) -> dict:
    kind = type(model)
    if _is_model(kind):
        return {"type": "model", "name": _text(model.name)}
    if _is_adapter(kind):
        return _adapter_data(model, name, folder)
    raise Refused("hand_in_subclass", name=name, kind=kind.__name__, base="kit.Model")


def _prompt_data(prompt: Prompt, name: str, folder: Path) -> dict:
    fields = object.__getattribute__(prompt, "__dict__")
    system = fields["system"]
    return {
        "type": "prompt",
        "model": _model_data(fields["model"], name, folder),
        "template": plain(fields["template"], name),
        "system": None if system is None else plain(system, name),
        "examples": plain(fields["examples"], name),
        "answer": plain(fields["answer"], name),
        "max_new_tokens": plain(fields["max_new_tokens"], name),
        "name": plain(fields["name"], name),
    }


def _adapter_data(adapter, name: str, folder: Path) -> dict:
    target = folder / ADAPTER_FOLDER / name
    adapter.save(target)
    fields = object.__getattribute__(adapter, "__dict__")
    return {"type": "adapter", "folder": f"{ADAPTER_FOLDER}/{name}",
            "base": _model_data(fields["base"], name, folder),
            "losses": plain(fields["losses"], name)}  # fmt: skip


def _report_data(report: Report, name: str) -> dict:
    return {f.name: plain(getattr(report, f.name), name)
            for f in dataclasses.fields(Report)}  # fmt: skip


def _report(data: Mapping) -> Report:
    names = {f.name for f in dataclasses.fields(Report)}
    return Report(**{key: value for key, value in data.items() if key in names})


def _model(name: str, given: Mapping[str, object]) -> Model:
    """Return the teacher's model of that name: the notebook's own, else loaded."""
    for value in given.values():
        if _is_model(type(value)) and value.name == name:
            return value
    from kit.loading import load_model

    return load_model(name)


def _defining_cell(function: FunctionType, name: str) -> str:
    """Return the source of the cell (or file) that defined `function`."""
    lines = linecache.getlines(function.__code__.co_filename)
    if not lines:
        raise Refused("hand_in_no_source", name=name)
    return "".join(lines)
