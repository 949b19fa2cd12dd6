"""Prompt: a reusable prompt for a task — instructions, few-shot examples, a template."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from kit import messages
from kit.errors import SettingError
from kit.model import Model
from kit.results import Reply


class Prompt:
    """A model plus how to ask it: system text, worked examples, an input template."""

    def __init__(
        self,
        model: Model,
        template: str = "{text}",
        *,
        system: str | None = None,
        examples: Iterable[Mapping] = (),
        answer: str = "{label}",
        max_new_tokens: int = 16,
        name: str | None = None,
    ) -> None:
        self.model = model
        self.template = template
        self.system = system
        self.examples = [dict(row) for row in examples]
        self.answer = answer
        self.max_new_tokens = max_new_tokens
        self.name = name or ("few-shot" if self.examples else "zero-shot")
        for row in self.examples:  # fail now, not halfway through an evaluation
            self._fill(self.template, row)
            self._fill(self.answer, row)

    def _fill(self, template: str, row: Mapping) -> str:
        try:
            return template.format(**row)
        except KeyError as missing:
            raise SettingError(
                "prompt_field", field=missing.args[0], fields=", ".join(row)
            ) from None

    def messages(self, row: Mapping | str) -> list[dict[str, str]]:
        """Return the chat messages this prompt sends for one input."""
        row = {"text": row} if isinstance(row, str) else row
        convo = [{"role": "system", "content": self.system}] if self.system else []
        for example in self.examples:
            convo.append(
                {"role": "user", "content": self._fill(self.template, example)}
            )
            convo.append(
                {"role": "assistant", "content": self._fill(self.answer, example)}
            )
        convo.append({"role": "user", "content": self._fill(self.template, row)})
        return convo

    def __call__(self, row: Mapping | str, **settings) -> Reply:
        """Ask the model about one input and return its answer."""
        settings.setdefault("max_new_tokens", self.max_new_tokens)
        return self.model.chat(self.messages(row), **settings)

    def batch(self, rows: Sequence[Mapping | str], **settings) -> list[Reply]:
        """Ask about several inputs in one batch (greedy unless told otherwise)."""
        settings.setdefault("max_new_tokens", self.max_new_tokens)
        return self.model.chat_batch([self.messages(r) for r in rows], **settings)

    def __repr__(self) -> str:
        shown = self.messages("…")
        lines = [f"<kit.Prompt {self.name!r}: {len(shown)} messages>"]
        lines += [f"  [{m['role']}] {m['content'][:70]}" for m in shown]
        return "\n".join(lines)


def task_prompt(
    model: Model, labels: Sequence[str], task: str = "", lang: str | None = None
) -> Prompt:
    """Return the plain zero-shot prompt for a labelled task: the labels, no examples."""
    # The instruction follows the data's language (not the notebook's): a Korean
    # sentence around English data confused the small model and cost 1.7x the tokens.
    system = messages.t("task_system", lang, task=task, labels=", ".join(labels))
    system = system.strip()
    return Prompt(model, system=system, name="zero-shot")


def training_prompt(
    model: Model, labels: Sequence[str], lang: str | None = None
) -> Prompt:
    """Return the short prompt kit.finetune trains with by default: just the labels."""
    # An adapter learns the task from its examples, not from instructions: the long
    # zero-shot instruction only made every training row longer. Korean instructions
    # cost ~3 tokens a syllable here, so steps were 2.2x slower (benchmarks/finetune.py).
    system = messages.t("finetune_system", lang, labels=", ".join(labels))
    return Prompt(model, system=system, name="fine-tune")
