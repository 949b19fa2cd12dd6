"""Reading a data file (.jsonl, .json, .csv) into checked rows, every error with its line."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from kit import messages
from kit.errors import KitError


class DatasetError(KitError, ValueError):
    """A data file, or a setting for it, has a problem the student can fix."""

    def __init__(self, key: str, at: tuple | None = None, **fields: object) -> None:
        # `at` = (message key, fields) of the place, shown in the message's language.
        self.at = at
        if at:
            fields["where"] = messages.t(at[0], **at[1])
        super().__init__(key, **fields)

    def in_language(self, lang: str) -> str:
        """Return this error's message in `lang`."""
        fields = dict(self.fields)
        if self.at:
            fields["where"] = messages.t(self.at[0], lang, **self.at[1])
        return messages.t(self.key, lang, **fields)


def _decode(path: Path) -> str:
    """Return the file's text; only UTF-8 (a BOM is fine) is accepted."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise DatasetError("dataset_encoding", file=path.name, line=line) from None


def _at(path: Path, text: str, pos: int) -> tuple:
    """Return the place (message key, fields) of character `pos`: its line."""
    return ("dataset_at_line", {"file": path.name, "n": text.count("\n", 0, pos) + 1})


def _read_json(path: Path, text: str) -> list[tuple[tuple, object]]:
    """Return (place, item) for each item of a JSON list, keeping its line number."""
    decoder, skip, items = json.JSONDecoder(), re.compile(r"\s*").match, []
    try:
        pos = skip(text).end()
        if not text.startswith("[", pos):
            top = decoder.decode(text)  # valid JSON, but not a list
            raise DatasetError("dataset_json_not_list", file=path.name,
                               kind=type(top).__name__)  # fmt: skip
        pos = skip(text, pos + 1).end()
        while not text.startswith("]", pos) or items:  # "[]" has no items
            # raw_decode reads one item at a time, so each row and error has a line.
            item, end = decoder.raw_decode(text, pos)
            items.append((_at(path, text, pos), item))
            pos = skip(text, end).end()
            if text.startswith("]", pos):
                break
            if not text.startswith(",", pos):
                raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
            pos = skip(text, pos + 1).end()
    except json.JSONDecodeError as e:
        where = _at(path, text, e.pos)
        raise DatasetError("dataset_bad_json", where, error=e.msg) from None
    return items


def read_items(path: Path) -> list[tuple[tuple, object]]:
    """Return (place, row) for each row of a .jsonl, .json or .csv file."""
    text, out = _decode(path), []
    if path.suffix.lower() == ".json" and text.strip():
        out = _read_json(path, text)
    elif path.suffix.lower() == ".jsonl":
        for n, line in enumerate(text.split("\n"), 1):  # not splitlines: U+2028
            if line.strip():
                at = ("dataset_at_line", {"file": path.name, "n": n})
                try:
                    out.append((at, json.loads(line)))
                except json.JSONDecodeError as e:
                    raise DatasetError("dataset_bad_json", at, error=e.msg) from None
    elif text.strip():
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [name.strip() for name in reader.fieldnames or []]
        reader.fieldnames = header  # Excel-made headers may carry stray spaces
        for row in reader:
            at = ("dataset_at_line", {"file": path.name, "n": reader.line_num})
            extra = row.pop(None, [])  # more values than columns: an unquoted comma?
            got = sum(v is not None for v in row.values()) + len(extra)
            if got != len(header):
                raise DatasetError("dataset_csv_columns", at, got=got, want=len(header))
            out.append((at, row))
    if not out:
        raise DatasetError("dataset_empty", file=path.name)
    return out


def checked_rows(items, text_field: str, label_field: str | None) -> list[dict]:
    """Return rows with "text" and "label" keys, or raise at the first bad row."""
    rows = []
    for at, raw in items:
        if not isinstance(raw, dict):
            raise DatasetError("dataset_not_object", at, kind=type(raw).__name__)
        for field in [text_field] + ([label_field] if label_field else []):
            if field not in raw:
                have = ", ".join(repr(str(k)) for k in raw) or "-"
                raise DatasetError("dataset_missing_field", at, field=field, have=have)
            value = raw[field]
            if not isinstance(value, str):
                raise DatasetError("dataset_not_text", at, field=field,
                                   value=repr(value)[:40])  # fmt: skip
            if not value.strip():
                raise DatasetError("dataset_empty_text", at, field=field)
        extra = {k: v for k, v in raw.items() if k not in (text_field, label_field)}
        label = raw[label_field].strip() if label_field else None
        rows.append({**extra, "text": raw[text_field], "label": label})
    return rows
