"""What Model methods return: text, tokens and probabilities that display well."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

_CHIP_COLOURS = ("#fde68a", "#bfdbfe", "#bbf7d0", "#fbcfe8", "#ddd6fe", "#fed7aa")


class Reply(str):
    """The model's answer: a str, plus how it was made (tokens, seconds)."""

    tokens: int
    prompt_tokens: int
    seconds: float
    streamed: bool

    def __new__(
        cls,
        text: str,
        *,
        tokens: int = 0,
        prompt_tokens: int = 0,
        seconds: float = 0.0,
        streamed: bool = False,
    ) -> Reply:
        reply = super().__new__(cls, text)
        reply.tokens = tokens
        reply.prompt_tokens = prompt_tokens
        reply.seconds = seconds
        reply.streamed = streamed
        return reply

    def details(self) -> dict[str, object]:
        """Return how the reply was made, to copy onto a derived reply."""
        return {
            "tokens": self.tokens,
            "prompt_tokens": self.prompt_tokens,
            "seconds": self.seconds,
            "streamed": self.streamed,
        }

    @property
    def tokens_per_second(self) -> float:
        """Return generated tokens per second."""
        return self.tokens / self.seconds if self.seconds else 0.0

    def _ipython_display_(self) -> None:
        # A streamed answer is already on screen: don't print it twice as Out[n].
        if self.streamed:
            self.streamed = False
            return
        print(str(self))


def visible(piece: str) -> str:
    """Return a token piece with spaces and newlines made visible."""
    return piece.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥")


@dataclass
class Tokens:
    """Text cut into tokens: the pieces, their ids, and a coloured view."""

    text: str
    ids: list[int]
    pieces: list[str]

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self):
        return iter(zip(self.pieces, self.ids))

    def __repr__(self) -> str:
        shown = " | ".join(visible(p) for p in self.pieces)
        return f"{len(self)} tokens: {shown}"

    def _repr_html_(self) -> str:
        chips = []
        for i, (piece, token_id) in enumerate(zip(self.pieces, self.ids)):
            colour = _CHIP_COLOURS[i % len(_CHIP_COLOURS)]
            chips.append(
                f'<span title="id {token_id}" style="background:{colour};'
                "padding:2px 3px;margin:1px;border-radius:4px;font-family:monospace;"
                f'display:inline-block">{html.escape(visible(piece))}'
                f'<sub style="color:#555"> {token_id}</sub></span>'
            )
        return f"<div><b>{len(self)} tokens</b><br>{''.join(chips)}</div>"


@dataclass
class TokenProbs:
    """The most likely next tokens after a text, with their probabilities."""

    text: str
    pieces: list[str]
    ids: list[int]
    probs: list[float]
    extra: dict[str, object] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self):
        return iter(zip(self.pieces, self.probs))

    def __getitem__(self, index: int) -> tuple[str, float]:
        return self.pieces[index], self.probs[index]

    def as_dict(self) -> dict[str, float]:
        """Return {token: probability}, most likely first."""
        return dict(zip(self.pieces, self.probs))

    def __repr__(self) -> str:
        width = max((len(visible(p)) for p in self.pieces), default=5)
        lines = [f"next token after {self.text[-40:]!r}:"]
        for piece, prob in zip(self.pieces, self.probs):
            bar = "█" * round(prob * 40)
            lines.append(f"  {visible(piece):<{width}}  {prob:6.1%}  {bar}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td style='font-family:monospace'>{html.escape(visible(piece))}</td>"
            f"<td style='text-align:right'>{prob:.1%}</td><td style='width:240px'>"
            f"<div style='background:#60a5fa;height:12px;width:{prob * 100:.1f}%'>"
            "</div></td></tr>"
            for piece, prob in zip(self.pieces, self.probs)
        )
        caption = html.escape(self.text[-60:])
        return (
            f"<table><caption style='text-align:left'>… {caption} → ?</caption>"
            f"{rows}</table>"
        )

    def plot(self, ax=None):
        """Draw the probabilities as a bar chart (Hangul renders) and return the axes."""
        import koreanize_matplotlib  # noqa: F401  (sets a Hangul font on first use)
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.35 * len(self) + 1))
        # "·" and a literal \n render in every font (NanumGothic lacks "␣" and "↵").
        labels = [
            p.replace(" ", "·").replace("\n", "\\n") or "(empty)" for p in self.pieces
        ]
        ax.barh(labels[::-1], self.probs[::-1], color="#60a5fa")
        ax.set_xlabel("probability / 확률")
        ax.set_xlim(0, 1)
        ax.set_title(f"… {self.text[-30:]} -> ?")
        for y, prob in enumerate(self.probs[::-1]):
            ax.text(prob + 0.01, y, f"{prob:.0%}", va="center")
        return ax
