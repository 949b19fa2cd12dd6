"""Measure a model or prompt on a labelled set, and compare two measurements."""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field

from tqdm.auto import tqdm

from kit import messages
from kit.adapters import Adapter
from kit.errors import SettingError
from kit.model import Model
from kit.prompt import Prompt, task_prompt
from kit.scoring import find_label, pick


@dataclass
class Report:
    """Scores of one model or prompt on one data set, with every output kept."""

    name: str
    scorer: str
    rows: list[dict] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def score(self) -> float:
        """Return the mean score, 0.0 to 1.0 (accuracy for the label scorer)."""
        return sum(r["score"] for r in self.rows) / len(self.rows) if self.rows else 0.0

    accuracy = score

    @property
    def failures(self) -> list[dict]:
        """Return the rows that did not get full marks."""
        return [r for r in self.rows if r["score"] < 1]

    def per_label(self) -> dict[str, float]:
        """Return the mean score for each expected label."""
        out = {}
        for label in self.labels:
            scores = [r["score"] for r in self.rows if r["expected"] == label]
            if scores:
                out[label] = sum(scores) / len(scores)
        return out

    def __repr__(self) -> str:
        right = sum(r["score"] for r in self.rows)
        return (f"<kit.Report {self.name!r}: {self.scorer} {self.score:.0%} "
                f"({right:g}/{len(self.rows)}), {self.seconds:.1f} s>")  # fmt: skip

    def _repr_html_(self) -> str:
        t = messages.t
        head = (f"<b>{html.escape(self.name)}</b> — {t('eval_score')} "
                f"<b>{self.score:.0%}</b> ({len(self.rows)} {t('eval_examples')}, "
                f"{self.seconds:.1f} s)")  # fmt: skip
        bar = (f"<div style='background:#e5e7eb;width:240px;height:10px'><div style="
               f"'background:#22c55e;width:{self.score * 100:.0f}%;height:10px'></div>"
               "</div>")  # fmt: skip
        rows = "".join(
            f"<tr><td>{html.escape(r['text'][:90])}</td>"
            f"<td>{html.escape(str(r['expected']))}</td>"
            f"<td>{html.escape(r['output'][:60])}</td></tr>"
            for r in self.failures[:8]
        )
        table = (f"<details><summary>{t('eval_failures', count=len(self.failures))}"
                 f"</summary><table><tr><th>{t('eval_input')}</th><th>"
                 f"{t('eval_expected')}</th><th>{t('eval_output')}</th></tr>{rows}"
                 "</table></details>") if self.failures else ""  # fmt: skip
        return f"<div>{head}{bar}{table}</div>"

    def plot(self, ax=None):
        """Draw the score per label as bars and return the axes."""
        import koreanize_matplotlib  # noqa: F401  (Hangul in labels)
        import matplotlib.pyplot as plt

        scores = self.per_label() or {self.scorer: self.score}
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.4 * len(scores) + 1.2))
        ax.barh(list(scores)[::-1], list(scores.values())[::-1], color="#22c55e")
        ax.set_xlim(0, 1)
        ax.set_xlabel(messages.t("eval_score"))
        ax.set_title(f"{self.name}: {self.score:.0%}")
        return ax


def as_dataset(dataset):
    from kit import datasets

    return dataset if isinstance(dataset, datasets.Dataset) else datasets.load(dataset)


def evaluate(
    model_or_prompt: Model | Prompt,
    dataset,
    *,
    scorer="label",
    name: str | None = None,
    batch_size: int = 8,
    max_new_tokens: int | None = None,
    progress: bool = True,
) -> Report:
    """Run a model or prompt on every row of a labelled set and score each answer."""
    data = as_dataset(dataset)
    labels = list(data.labels)
    names = dict(getattr(data, "label_names", {}) or {})
    scorer_name, score = pick(scorer, labels, names)
    if isinstance(model_or_prompt, Prompt):
        prompt = model_or_prompt
    elif isinstance(model_or_prompt, Adapter):  # ask as it was trained
        m = model_or_prompt.manifest  # the template, system text and examples it learnt
        prompt = Prompt(model_or_prompt, m.get("template", "{text}"),
                        system=m.get("system"), examples=m.get("examples", ()),
                        answer=m.get("answer", "{label}"),
                        max_new_tokens=m.get("max_new_tokens", 16),
                        name=model_or_prompt.name)  # fmt: skip
    elif isinstance(model_or_prompt, Model):
        prompt = task_prompt(model_or_prompt, labels, getattr(data, "task", ""),
                             getattr(data, "lang", None))  # fmt: skip
    else:
        raise SettingError("bad_type", name="model_or_prompt", kind="kit.Model / kit.Prompt",
                           value=type(model_or_prompt).__name__)  # fmt: skip
    if not isinstance(batch_size, int) or not 1 <= batch_size <= 64:
        raise SettingError("bad_number", name="batch_size", low=1, high=64,
                           value=batch_size, example=8)  # fmt: skip
    settings = {"max_new_tokens": max_new_tokens or prompt.max_new_tokens}
    report = Report(name or prompt.name or getattr(prompt.model, "name", "model"),
                    scorer_name, labels=labels)  # fmt: skip
    rows = list(data)
    started = time.perf_counter()
    bar = tqdm(total=len(rows), desc=messages.t("eval_running", name=report.name),
               unit=messages.t("eval_unit"), disable=not progress)  # fmt: skip
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        for row, reply in zip(chunk, prompt.batch(chunk, **settings)):
            report.rows.append({
                "text": str(row.get("text", "")), "expected": row.get("label"),
                "output": str(reply), "score": score(str(reply), row),
                "predicted": find_label(reply, labels, names) if labels else None,
            })  # fmt: skip
        bar.update(len(chunk))
    bar.close()
    report.seconds = time.perf_counter() - started
    if isinstance(prompt.model, Adapter):  # the manifest remembers how it scored
        prompt.model.manifest.setdefault("scores", {})[data.name] = report.score
    return report


@dataclass
class Comparison:
    """Two or more reports of the same data set, side by side."""

    reports: list[Report]

    @property
    def best(self) -> Report:
        """Return the report with the highest score."""
        return max(self.reports, key=lambda r: r.score)

    def changed(self) -> list[dict]:
        """Return the rows where the first and last report score differently."""
        first, last = self.reports[0], self.reports[-1]
        return [
            {**a, "output_after": b["output"], "score_after": b["score"]}
            for a, b in zip(first.rows, last.rows)
            if a["score"] != b["score"]
        ]

    def __repr__(self) -> str:
        return "\n".join(repr(r) for r in self.reports)

    def _repr_html_(self) -> str:
        t = messages.t
        rows = "".join(
            f"<tr><td>{html.escape(r.name)}</td><td><b>{r.score:.0%}</b></td>"
            f"<td>{len(r.rows)}</td></tr>"
            for r in self.reports
        )
        changed = self.changed()
        better = sum(c["score_after"] > c["score"] for c in changed)
        worse = len(changed) - better
        note = t("eval_changed", better=better, worse=worse)
        return (f"<table><tr><th></th><th>{t('eval_score')}</th><th>"
                f"{t('eval_examples')}</th></tr>{rows}</table><p>{note}</p>")  # fmt: skip

    def plot(self, ax=None):
        """Draw the scores side by side, overall and per label; return the axes."""
        import koreanize_matplotlib  # noqa: F401
        import matplotlib.pyplot as plt
        import numpy as np

        labels = list(self.reports[0].per_label())
        groups = [messages.t("eval_all")] + labels
        if ax is None:
            _, ax = plt.subplots(figsize=(1.2 * len(groups) + 3, 3.5))
        width = 0.8 / len(self.reports)
        for i, report in enumerate(self.reports):
            per_label = report.per_label()
            values = [report.score] + [per_label.get(g, 0) for g in labels]
            bars = ax.bar(np.arange(len(groups)) + i * width, values, width,
                          label=report.name)  # fmt: skip
            # The numbers on the bars: people read "35% → 80%" faster than bar heights.
            ax.bar_label(bars, labels=[f"{v:.0%}" for v in values], fontsize=8)
        ax.set_xticks(np.arange(len(groups)) + width * (len(self.reports) - 1) / 2)
        ax.set_xticklabels(groups)
        ax.set_ylim(0, 1.1)
        ax.set_ylabel(messages.t("eval_score"))
        ax.legend()
        return ax


def compare(*reports: Report) -> Comparison:
    """Put reports of the same data set side by side (table, chart, what changed)."""
    if len(reports) < 2 or not all(isinstance(r, Report) for r in reports):
        raise SettingError("bad_compare")
    if len({len(r.rows) for r in reports}) > 1:
        raise SettingError("bad_compare")
    return Comparison(list(reports))
