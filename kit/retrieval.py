"""Asking your documents: split them into passages, find the right ones with BM25."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kit import messages
from kit.dataset_files import DatasetError
from kit.errors import SettingError
from kit.korean_hint import hangul_share

FOLDER = Path(__file__).parent / "data" / "documents"
READABLE = (".md", ".txt")
# A block that opens a table or a list belongs with the sentence that introduces it.
CONTINUES = re.compile(r"(\||[-*] |\d+\. )")
DASHES = re.compile(r"[\u2010-\u2015\u2212~\u301c\uff5e]")


def available() -> list[str]:
    """Return the names of the documents shipped with the kit."""
    return sorted({p.name.split(".")[0] for p in FOLDER.glob("*.*.md")})


@dataclass(frozen=True)
class Passage:
    """One piece of a document: its text and the section heading it sits under."""

    text: str
    section: str
    number: int = 0  # its place in the document, from 0

    def __str__(self) -> str:
        return f"[{self.section}] {self.text}" if self.section else self.text


@dataclass(frozen=True)
class Hit:
    """A passage that a search found, with its BM25 score and rank (1 = best)."""

    passage: Passage
    score: float
    rank: int

    @property
    def section(self) -> str:
        """Return the heading of the section the passage comes from."""
        return self.passage.section

    @property
    def text(self) -> str:
        """Return the passage's text."""
        return self.passage.text


def _short(text: str, size: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


class Hits(list):
    """The passages a search found, best first, shown as a table."""

    question: str = ""

    @property
    def sections(self) -> list[str]:
        """Return the section heading of each hit, best first."""
        return [hit.section for hit in self]

    def _head(self) -> list[str]:
        return [messages.t(f"retrieval_col_{c}") for c in ("rank", "score", "section",
                                                           "passage")]  # fmt: skip

    def __repr__(self) -> str:
        if not self:
            return messages.t("retrieval_no_hits", question=self.question)
        lines = [f"{h.rank:>2}  {h.score:5.2f}  {h.section}: {_short(h.text, 70)}"
                 for h in self]  # fmt: skip
        return "\n".join(["  ".join(self._head()), *lines])

    def _repr_html_(self) -> str:
        e = html.escape
        if not self:
            return f"<p>{e(repr(self))}</p>"
        head = "".join(f"<th>{e(c)}</th>" for c in self._head())
        rows = "".join(
            f"<tr><td>{h.rank}</td><td>{h.score:.2f}</td><td>{e(h.section)}</td>"
            f"<td style='text-align:left;white-space:pre-wrap'>{e(h.text)}</td></tr>"
            for h in self
        )
        return f"<table><tr>{head}</tr>{rows}</table>"


def _blocks(body: str) -> list[str]:
    """Return the paragraphs of a section; a table or list joins its lead-in line."""
    blocks: list[str] = []
    for block in (b.strip() for b in re.split(r"\n\s*\n", body)):
        if not block:
            continue
        # Undo the line wrapping of the source; table rows and list items stay lines.
        block = re.sub(r"\n(?!\||[-*] |\d+\. )", " ", block)
        if blocks and CONTINUES.match(block):
            blocks[-1] += "\n" + block
        else:
            blocks.append(block)
    return blocks


class Document:
    """A document cut into sections and passages, with its labelled questions."""

    def __init__(self, text: str, *, name: str = "document", lang: str | None = None):
        self.name, self.text = name, text
        self.lang = lang or ("ko" if hangul_share(text) >= 0.3 else "en")
        self.title, self._sections = name, []
        heading, body = "", []
        for line in text.splitlines():
            if line.startswith("# ") and self.title == name:
                self.title = line[2:].strip()
            elif line.startswith("## "):
                self._add(heading, body)
                heading, body = line[3:].strip(), []
            else:
                body.append(line)
        self._add(heading, body)

    def _add(self, heading: str, body: list[str]) -> None:
        if heading and "".join(body).strip():  # the introduction has no heading
            self._sections.append((heading, "\n".join(body).strip()))

    @property
    def sections(self) -> list[Passage]:
        """Return every `## ` section as one passage."""
        return [Passage(text, heading, i) for i, (heading, text) in
                enumerate(self._sections)]  # fmt: skip

    @property
    def passages(self) -> list[Passage]:
        """Return the paragraphs of every section, each with its section heading."""
        pieces = [(h, b) for h, text in self._sections for b in _blocks(text)]
        return [Passage(text, heading, i) for i, (heading, text) in enumerate(pieces)]

    @property
    def questions(self) -> list[dict]:
        """Return the labelled questions about this document (shipped documents only)."""
        path = FOLDER / f"questions.{self.lang}.jsonl"
        if self.name not in available() or not path.is_file():
            return []
        rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
        return [row for row in rows if row.get("document") == self.name]

    def _caption(self) -> str:
        return messages.t("retrieval_document", title=self.title,
                          sections=len(self._sections), passages=len(self.passages),
                          questions=len(self.questions))  # fmt: skip

    def __repr__(self) -> str:
        return self._caption()

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(h)}</li>" for h, _ in self._sections)
        return f"<b>{html.escape(self._caption())}</b><ol>{items}</ol>"


def load_documents(source: str | Path, *, lang: str | None = None) -> Document:
    """Load a shipped document by name, or your own Markdown (.md) or text (.txt) file."""
    if lang is not None and lang not in messages.LANGUAGES:
        raise SettingError("dataset_bad_lang", value=repr(lang),
                           choices=", ".join(messages.LANGUAGES))  # fmt: skip
    if not isinstance(source, (str, Path)):
        raise SettingError("bad_type", name="source", kind="str", value=source)
    if isinstance(source, str) and source in available():
        lang = lang or messages.language()
        path = FOLDER / f"{source}.{lang}.md"
        return Document(path.read_text("utf-8"), name=source, lang=lang)
    path = Path(source)
    if path.suffix.lower() not in READABLE:
        raise DatasetError("retrieval_unknown", name=str(source),
                           names=", ".join(available()))  # fmt: skip
    if not path.is_file():
        raise DatasetError("dataset_not_found", file=str(path), cwd=str(Path.cwd()))
    return Document(path.read_text("utf-8-sig"), name=path.stem, lang=lang)


def _pairs(text: str) -> list[str]:
    """Return the two-letter pieces of each word ("도서관" -> "도서", "서관")."""
    words = re.findall(r"\w+", text.lower())
    return [w[i : i + 2] for w in words for i in range(max(1, len(w) - 1))]


class Index:
    """A BM25 search index over passages (bm25s); Korean is matched by letter pairs."""

    def __init__(self, passages: Iterable[Passage] | Document) -> None:
        import bm25s
        from bm25s.tokenization import Tokenizer

        if isinstance(passages, Document):
            passages = passages.passages
        self.passages = list(passages) if not isinstance(passages, str) else []
        if not self.passages or not all(isinstance(p, Passage) for p in self.passages):
            raise SettingError("retrieval_no_passages")
        texts = [f"{p.section}\n{p.text}" for p in self.passages]
        # Korean glues endings to words (도서관은, 도서관에서): pairs of letters still
        # match, whole words often don't. English drops "the", "is", "of" ...
        self.korean = hangul_share(texts) >= 0.3
        self._tokenizer = (Tokenizer(splitter=_pairs, stopwords=None) if self.korean
                           else Tokenizer(stopwords="en"))  # fmt: skip
        self._bm25 = bm25s.BM25()
        corpus = self._tokenizer.tokenize(texts, return_as="tuple", show_progress=False)
        self._bm25.index(corpus, show_progress=False)

    def words(self, text: str) -> list[str]:
        """Return the words BM25 compares for `text` (Korean: pairs of letters)."""
        found = self._tokenizer.tokenize([_question(text)], update_vocab=False,
                                         return_as="string", show_progress=False)  # fmt: skip
        return [w for w in found[0] if w]

    def search(self, question: str, k: int = 3) -> Hits:
        """Return the k passages that best match the question, best first."""
        question = _question(question)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise SettingError("retrieval_bad_k", value=repr(k))
        ids = self._tokenizer.tokenize([question], update_vocab=False,
                                       return_as="ids", show_progress=False)  # fmt: skip
        scores = self._bm25.get_scores(ids[0])
        best = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
        hits = Hits(Hit(self.passages[i], round(float(scores[i]), 3), rank)
                    for rank, i in enumerate((i for i in best if scores[i] > 0), 1))  # fmt: skip
        hits.question = question
        return hits

    def __repr__(self) -> str:
        how = "letter pairs" if self.korean else "words"
        return f"<kit.retrieval.Index: {len(self.passages)} passages, BM25 on {how}>"


def _question(question: object) -> str:
    if not isinstance(question, str) or not question.strip():
        raise SettingError("retrieval_empty_question", value=repr(question))
    return question.strip()


def prompt(
    question: str, hits: Sequence[Hit | Passage] = (), lang: str | None = None
) -> str:
    """Return the message for the model: the passages, then the question."""
    question = _question(question)
    passages = [h.passage if isinstance(h, Hit) else h for h in hits]
    if not passages:
        return messages.t("retrieval_prompt_alone", lang, question=question)
    shown = "\n\n".join(str(p) for p in passages)
    return messages.t("retrieval_prompt", lang, passages=shown, question=question)


def _squash(text: str) -> str:
    """Return text without spaces, with one kind of dash and times as 8:30, not 08:30."""
    text = DASHES.sub("-", str(text).lower())
    text = re.sub(r"(?<=\d),(?=\d{3})", "", "".join(text.split()))
    return re.sub(r"(?<!\d)0(?=\d:\d\d)", "", text)


def has_answer(reply: str, answer: str) -> bool:
    """Return True if the reply contains the expected answer (spaces, dashes ignored).

    A number is matched whole: "8:30" is not in "18:30", nor "5일" in "15일".
    """
    wanted = _squash(answer)
    if not wanted:
        return False
    before = r"(?<!\d)" if wanted[0].isdigit() else ""
    after = r"(?!\d)" if wanted[-1].isdigit() else ""
    return re.search(before + re.escape(wanted) + after, _squash(reply)) is not None
