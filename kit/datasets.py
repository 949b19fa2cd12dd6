"""Labelled text sets, shipped or your own file, checked with friendly errors."""

from __future__ import annotations

import copy
import functools
import hashlib
import html
import json
import random
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from kit import messages
from kit.dataset_files import DatasetError, checked_rows, read_items

DATA = Path(__file__).parent / "data"
READABLE = (".jsonl", ".json", ".csv")


@functools.cache
def _catalogue() -> dict:
    return json.loads((DATA / "catalogue.json").read_text(encoding="utf-8"))


def available() -> list[str]:
    """Return the names of the data sets shipped with the kit."""
    return sorted(_catalogue())


def describe(name: str) -> dict:
    """Return the catalogue entry of a shipped data set: title, task, track, labels."""
    if name not in _catalogue():
        raise DatasetError("dataset_unknown", name=name, names=", ".join(available()))
    return copy.deepcopy(_catalogue()[name])


def _width(text: str) -> int:
    return sum(1 + (unicodedata.east_asian_width(c) in "WF") for c in text)


def _fit(text: str, cols: int) -> str:
    """Return text cut and padded to `cols` screen columns (Hangul is two wide)."""
    if _width(text) > cols:
        while _width(text) > cols - 1:
            text = text[:-1]
        text += "…"
    return text + " " * (cols - _width(text))


class Preview:
    """The first rows of a data set, as an HTML table or a text table."""

    def __init__(self, data: Dataset, n: int) -> None:
        self.data, self.rows = data, data.rows[:n]

    def _lines(self) -> tuple[str, str, str]:
        d, t = self.data, messages.t
        caption = t("dataset_caption", name=d.name, size=len(d))
        counts = ", ".join(f"{k} {v}" for k, v in d.counts().items())
        counts = t("dataset_counts", counts=counts or t("dataset_no_labels"))
        more = len(d) - len(self.rows)
        return caption, counts, t("dataset_more", more=more) if more > 0 else ""

    def _label(self, label: str | None) -> str:
        if label is None:
            return ""
        name = self.data.label_names.get(label, label)
        same = name.replace("_", " ").lower() == label.replace("_", " ").lower()
        return label if same else f"{label} ({name})"

    def __repr__(self) -> str:
        caption, counts, tail = self._lines()
        labels = [self._label(r["label"]) for r in self.rows]
        width = max([_width(x) for x in labels] + [5])
        lines = [caption, counts] + [
            f"{i:>3}  {_fit(label, width)}  {_fit(r['text'], 64)}".rstrip()
            for i, (r, label) in enumerate(zip(self.rows, labels))
        ]
        return "\n".join(lines + ([tail] if tail else []))

    def _repr_html_(self) -> str:
        caption, counts, tail = self._lines()
        e, t = html.escape, messages.t
        task = f"<br><i>{e(self.data.task)}</i>" if self.data.task else ""
        rows = "".join(
            f"<tr><td>{i}</td><td style='text-align:left'>{e(r['text'])}</td>"
            f"<td>{e(self._label(r['label']))}</td></tr>"
            for i, r in enumerate(self.rows)
        )
        head = f"<th>#</th><th>{t('dataset_col_text')}</th><th>{t('dataset_col_label')}"
        foot = f"<p style='color:#6b7280'>{e(tail)}</p>" if tail else ""
        caption = f"<b>{e(caption)}</b> · {e(counts)}{task}"
        return (f"<table><caption style='text-align:left'>{caption}</caption>"
                f"<tr>{head}</th></tr>{rows}</table>{foot}")  # fmt: skip


class Dataset:
    """Rows of {"text": ..., "label": ...}, with splits, counts and a preview."""

    def __init__(
        self,
        rows: list[dict],
        *,
        name: str = "data",
        lang: str | None = None,
        text_field: str = "text",
        label_field: str | None = "label",
    ) -> None:
        self.rows, self.name, self.lang = rows, name, lang
        self.text_field, self.label_field = text_field, label_field

    def _like(self, rows: list[dict]) -> Dataset:
        return Dataset(rows, name=self.name, lang=self.lang, text_field=self.text_field,
                       label_field=self.label_field)  # fmt: skip

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.rows)

    def __getitem__(self, index: int | slice) -> dict | Dataset:
        if isinstance(index, slice):
            return self._like(self.rows[index])
        return self.rows[index]

    @property
    def texts(self) -> list[str]:
        """Return the text of every row."""
        return [r["text"] for r in self.rows]

    @property
    def targets(self) -> list[str | None]:
        """Return the label of every row (None where a row has no label)."""
        return [r["label"] for r in self.rows]

    @property
    def labels(self) -> list[str]:
        """Return the label ids, sorted, each once."""
        return sorted({r["label"] for r in self.rows if r["label"] is not None})

    @property
    def label_names(self) -> dict[str, str]:
        """Return each label id's display name in this data set's language."""
        entry = _catalogue().get(self.name, {}).get("labels", {})
        lang = self.lang or messages.language()
        return {k: entry.get(k, {}).get(lang, k) for k in self.labels}

    @property
    def task(self) -> str:
        """Return the task in one sentence (shipped sets; else "")."""
        entry = _catalogue().get(self.name, {}).get("task", {})
        return entry.get(self.lang or messages.language(), "")

    def counts(self) -> dict[str, int]:
        """Return how many rows each label has."""
        counts = Counter(self.targets)
        return {label: counts[label] for label in self.labels}

    def split(self, test: float = 0.2, seed: int = 0) -> tuple[Dataset, Dataset]:
        """Split into (train, test) parts, keeping each label's share in both."""
        number = isinstance(test, (int, float)) and not isinstance(test, bool)
        if not number or not 0 < test < 1:
            raise DatasetError("dataset_bad_test", value=repr(test))
        rng = random.Random(seed)
        groups: dict[object, list[int]] = {}
        for i, row in enumerate(self.rows):
            groups.setdefault(row["label"], []).append(i)
        # Largest remainder: the test part gets round(n * test) rows in all, and each
        # label as close to its share as whole rows allow.
        keys = sorted(groups, key=str)
        wanted = {k: len(groups[k]) * test for k in keys}
        take = {k: int(wanted[k]) for k in keys}
        left = round(len(self) * test) - sum(take.values())
        for k in sorted(keys, key=lambda k: take[k] - wanted[k])[: max(left, 0)]:
            take[k] += 1
        chosen: set[int] = set()
        for k in keys:
            chosen.update(rng.sample(groups[k], take[k]))
        if not chosen or len(chosen) == len(self):
            raise DatasetError("dataset_split_empty", size=len(self), test=test)
        train = [r for i, r in enumerate(self.rows) if i not in chosen]
        return self._like(train), self._like([self.rows[i] for i in sorted(chosen)])

    def sample(self, n: int, seed: int = 0) -> Dataset:
        """Return n rows picked at random (the same rows for the same seed)."""
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(self):
            raise DatasetError("dataset_bad_sample", size=len(self), value=repr(n))
        picked = sorted(random.Random(seed).sample(range(len(self)), n))
        return self._like([self.rows[i] for i in picked])

    def fingerprint(self) -> str:
        """Return a SHA-256 of the rows: the same data always gives the same hash."""
        text = json.dumps(self.rows, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":"), default=str)  # fmt: skip
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def preview(self, n: int = 5) -> Preview:
        """Show the first n rows as a table, with the size and label counts."""
        return Preview(self, n)

    def __repr__(self) -> str:
        return repr(self.preview())

    def _repr_html_(self) -> str:
        return self.preview()._repr_html_()

    def plot_counts(self, ax=None):
        """Draw a bar for each label's number of rows and return the axes."""
        import koreanize_matplotlib  # noqa: F401  (Hangul in label names)
        import matplotlib.pyplot as plt

        counts, names = self.counts(), self.label_names
        if ax is None:
            _, ax = plt.subplots(figsize=(1.1 * len(counts) + 2, 3))
        ax.bar([names[k] for k in counts], list(counts.values()), color="#60a5fa")
        ax.set_ylabel(messages.t("dataset_axis_rows"))
        ax.set_title(messages.t("dataset_caption", name=self.name, size=len(self)))
        return ax


def load(
    source: str | Path | list[dict],
    *,
    lang: str | None = None,
    text_field: str = "text",
    label_field: str | None = "label",
) -> Dataset:
    """Load a shipped data set by name, or your own .jsonl/.json/.csv file or list."""
    if lang is not None and lang not in messages.LANGUAGES:
        raise DatasetError("dataset_bad_lang", value=repr(lang),
                           choices=", ".join(messages.LANGUAGES))  # fmt: skip
    name = "data"
    if isinstance(source, list):
        if not source:
            raise DatasetError("dataset_empty_list")
        items = [(("dataset_at_item", {"n": i}), row) for i, row in enumerate(source)]
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if isinstance(source, str) and source in _catalogue():
            lang = lang or messages.language()
            name, path = source, DATA / f"{source}.{lang}.jsonl"
        elif not path.suffix and not path.exists():
            raise DatasetError("dataset_unknown", name=str(source),
                               names=", ".join(available()))  # fmt: skip
        elif not path.is_file():
            raise DatasetError("dataset_not_found", file=str(path), cwd=str(Path.cwd()))
        elif path.suffix.lower() not in READABLE:
            raise DatasetError("dataset_bad_extension", file=path.name, ext=path.suffix)
        else:
            name = path.name
        items = read_items(path)
    else:
        raise DatasetError("dataset_bad_source", kind=type(source).__name__)
    rows = checked_rows(items, text_field, label_field)
    return Dataset(rows, name=name, lang=lang, text_field=text_field,
                   label_field=label_field)  # fmt: skip
