"""Adapters: a LoRA adapter on a base model, saved atomically with a manifest."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

from kit import messages
from kit.errors import KitError
from kit.files import folder_swapped_in
from kit.model import Model

MANIFEST = "kit-adapter.json"


class Adapter(Model):
    """A fine-tuned model: the shared base weights plus a small LoRA adapter."""

    def __init__(self, peft_model, base: Model, *, manifest: dict, losses=()) -> None:
        super().__init__(peft_model, base.tokenizer, name=f"{base.name}+lora",
                         engine=base.engine.with_lora(peft_model))  # fmt: skip
        self.base = base
        self.manifest = manifest
        self.losses = list(losses)

    def fingerprint(self) -> str:
        """Return the base model's fingerprint (adapters stack on a base, not on each other)."""
        return self.base.fingerprint()

    def __repr__(self) -> str:
        m = self.manifest
        return (f"<kit.Adapter on {m['base']} · {m['dataset']} · {m['steps']} steps · "
                f"final loss {m.get('final_loss', float('nan')):.3f}>")  # fmt: skip

    def _lora_weights(self) -> list:
        return [p for n, p in self.hf.named_parameters() if "lora_" in n]

    def trainable_parameters(self) -> int:
        """Return how many numbers the adapter learnt (the base model's stay frozen)."""
        return sum(p.numel() for p in self._lora_weights())

    def adapter_mb(self) -> float:
        """Return how much memory the adapter's own weights take, in megabytes."""
        return sum(p.numel() * p.element_size() for p in self._lora_weights()) / 1e6

    def plot_loss(self, ax=None):
        """Draw the training loss per step and return the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 2.6))
        draw_loss(ax, self.losses)
        return ax

    def save(self, path: str | os.PathLike) -> Path:
        """Save the adapter to `path` atomically: a crash leaves the old one intact."""
        target = Path(path).expanduser().absolute()
        with folder_swapped_in(target) as fresh:
            self.hf.save_pretrained(fresh)
            (fresh / MANIFEST).write_text(json.dumps(self.manifest, indent=2))
        return target


def draw_loss(ax, losses: list[float]) -> None:
    """Draw a loss curve on `ax`, with whole-number steps on the x axis."""
    import koreanize_matplotlib  # noqa: F401  (Hangul axis labels)
    from matplotlib.ticker import MaxNLocator

    from kit import messages

    ax.plot(range(1, len(losses) + 1), losses, color="#ef4444")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(messages.t("finetune_step"))
    ax.set_ylabel("loss")


@contextlib.contextmanager
def quiet_peft() -> Iterator[None]:
    """Hide peft's deprecation chatter about transformers internals from students."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
        yield


def shared_copy(module):
    """Copy a module tree but share every weight, so LoRA goes on the copy only."""
    memo = {id(t): t for t in list(module.parameters()) + list(module.buffers())}
    return copy.deepcopy(module, memo)


def read_manifest(path: str | os.PathLike) -> dict:
    """Return an adapter folder's manifest, or explain what is wrong with the folder."""
    folder = Path(path).expanduser()
    try:
        return json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise KitError("adapter_missing", path=str(folder)) from None
    except ValueError:
        raise KitError("adapter_damaged", path=str(folder)) from None


def attach(base: Model, path: str | os.PathLike) -> Adapter:
    """Load a saved adapter onto `base`, refusing one made for another base model."""
    from peft import PeftModel

    folder = Path(path).expanduser()
    manifest = read_manifest(folder)
    if manifest.get("base_fingerprint") != base.fingerprint():
        raise KitError("adapter_wrong_base", path=str(folder),
                       made_for=manifest.get("base", "?"), base=base.name)  # fmt: skip
    with quiet_peft():
        peft_model = PeftModel.from_pretrained(shared_copy(base.hf), folder.resolve())
    peft_model.eval()
    return Adapter(peft_model, base, manifest=manifest)


class LossPlot:
    """A loss curve that redraws in place in the notebook while training runs."""

    def __init__(self) -> None:
        import koreanize_matplotlib  # noqa: F401
        import matplotlib.pyplot as plt
        from IPython.display import display

        self.figure, self.ax = plt.subplots(figsize=(5, 2.6))
        plt.close(self.figure)  # shown through the handle only, not again at the end
        self.handle = display(self.figure, display_id=True)

    def update(self, losses: list[float]) -> None:
        self.ax.clear()
        draw_loss(self.ax, losses)
        self.ax.set_title(messages.t("finetune_loss_title"))
        self.handle.update(self.figure)
