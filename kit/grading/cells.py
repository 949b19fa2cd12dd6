"""Grading cells: their hand-in part, and running them the way a kernel would."""

from __future__ import annotations

import ast
import contextlib
import io
import linecache
import signal
import traceback
from collections.abc import Iterator, Mapping

from kit.grading.hand_in import MIME

CELL_FILE = "<grading cell>"


def hand_in_part(source: str) -> str | None:
    """Return the source up to its first `hand_in(...)` line, or None if it has none."""
    try:
        node = _hand_in_statement(source)
    except SyntaxError:
        return None
    return None if node is None else "\n".join(source.splitlines()[: node.end_lineno])


def checks_part(source: str) -> str:
    """Return the source with its hand_in(...) line blanked: what the grader runs."""
    lines = source.splitlines()
    node = _hand_in_statement(source)
    if node is not None:  # blank, not cut: error messages keep the cell's line numbers
        lines[node.lineno - 1 : node.end_lineno] = [""] * (
            node.end_lineno - node.lineno + 1
        )
    return "\n".join(lines)


def _hand_in_statement(source: str) -> ast.stmt | None:
    """Return the cell's first top-level `hand_in(...)` / `grading.hand_in(...)` line."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            called = node.value.func
            if (isinstance(called, ast.Name) and called.id == "hand_in") or (
                isinstance(called, ast.Attribute) and called.attr == "hand_in"
            ):
                return node
    return None


def handed_in(outputs: list[Mapping]) -> dict | None:
    """Return the answers a cell's hand_in() put in its outputs, or None."""
    for output in outputs:
        data = output.get("data", {})
        if output.get("output_type") == "display_data" and MIME in data:
            answers = data[MIME]
            return dict(answers) if isinstance(answers, Mapping) else None
    return None


def run_cell(source: str, namespace: dict, timeout: int) -> list[dict]:
    """Run a cell's code in `namespace` and return its outputs as a notebook keeps them."""
    printed = io.StringIO()
    outputs: list[dict] = []
    try:
        with time_limit(timeout), contextlib.redirect_stdout(printed):
            result = _run(source, namespace)
    except BaseException as problem:  # the cell's error is its output, as in a kernel
        outputs.append(_stream(printed.getvalue()))
        outputs.append(error_output(problem))
    else:
        outputs.append(_stream(printed.getvalue()))
        if result is not None:
            outputs.append({"output_type": "execute_result", "execution_count": None,
                            "metadata": {}, "data": {"text/plain": repr(result)}})  # fmt: skip
    return [o for o in outputs if o.get("text", True)]


def _run(source: str, namespace: dict) -> object:
    """Exec the cell; return the value of its last line when that is an expression."""
    linecache.cache[CELL_FILE] = (len(source), None, source.splitlines(True), CELL_FILE)
    tree = ast.parse(source, CELL_FILE)
    last = (
        tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    )
    exec(compile(tree, CELL_FILE, "exec"), namespace)
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), CELL_FILE, "eval"), namespace)


class CellTimeout(BaseException):
    """The grading cell ran past the teacher's time limit (no `except Exception` stops it)."""


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Raise CellTimeout in this (main) thread after `seconds`."""

    def stop(signum, frame):
        raise CellTimeout(f"the grading cell ran past {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(max(1, int(seconds)))
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _stream(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def error_output(problem: BaseException) -> dict:
    """Return an exception as a notebook's error output, as short as a kernel's."""
    from kit.errors import KitError

    if isinstance(problem, KitError):
        lines = [f"{type(problem).__name__}: {problem}"]
    else:
        frames = traceback.extract_tb(problem.__traceback__)
        lines = [
            f"line {f.lineno}: {f.line}" for f in frames if f.filename == CELL_FILE
        ]
        lines += traceback.format_exception_only(type(problem), problem)
    return {"output_type": "error", "ename": type(problem).__name__,
            "evalue": str(problem), "traceback": [line.rstrip() for line in lines]}  # fmt: skip
