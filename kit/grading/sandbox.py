"""Code answers run in a process of their own; the checks call them and get data back.

A student's function may do anything in its process, including patching the kit
there, but all the grading process receives is each call's return value as JSON.
Run as `python -m kit.grading.sandbox` by Sandbox; never by hand.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path


class AnswerFailed(Exception):
    """A handed-in function raised, timed out or returned something that is not data."""


class Sandbox:
    """One process that runs the teacher's given cells, then the student's code cells."""

    def __init__(self, given: list[str], folder: Path, timeout: float) -> None:
        self.timeout = timeout
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kit.grading.sandbox"], cwd=folder,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self._ask({"op": "setup", "sources": given})

    def define(self, name: str, source: str) -> CodeAnswer:
        """Run the cell that defines `name` and return a callable for it."""
        self._ask({"op": "define", "name": name, "source": source})
        return CodeAnswer(self, name)

    def call(self, name: str, args: tuple, kwargs: dict) -> object:
        """Call the student's function with plain-data arguments; return its value."""
        try:
            message = {"op": "call", "name": name, "args": list(args), "kwargs": kwargs}
            return self._ask(message)["value"]
        except TypeError as problem:  # arguments that are not JSON: the checks' bug
            raise ValueError(f"cannot pass {args!r} to {name}: {problem}") from None

    def close(self) -> None:
        """Stop the process."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def _ask(self, message: dict) -> dict:
        if self.process.poll() is not None:
            raise AnswerFailed("the process that runs your code has stopped")
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        self.process.stdin.flush()
        line = self._read_line()
        try:
            reply = json.loads(line)
        except ValueError:
            raise AnswerFailed(
                "your code wrote something the grader cannot read"
            ) from None
        if not isinstance(reply, dict) or "error" in reply:
            raise AnswerFailed(
                str(reply.get("error") if isinstance(reply, dict) else reply)
            )
        return reply

    def _read_line(self) -> bytes:
        deadline = time.monotonic() + self.timeout
        stream, line = self.process.stdout, b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([stream], [], [], left)[0]:
                self.close()
                raise AnswerFailed(
                    f"your code did not answer within {self.timeout:g} s"
                )
            chunk = os.read(stream.fileno(), 1 << 16)
            if not chunk:
                raise AnswerFailed("the process that runs your code has stopped")
            line += chunk
        return line


class CodeAnswer:
    """A student's function as the checks see it: call it, get plain data back."""

    def __init__(self, sandbox: Sandbox, name: str) -> None:
        self.sandbox = sandbox
        self.__name__ = name

    def __call__(self, *args, **kwargs) -> object:
        return self.sandbox.call(self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<handed-in function {self.__name__}>"


def serve() -> None:
    """Answer the grader's requests on the pipe; the student's prints go nowhere."""
    from kit.grading.answers import Refused, plain

    replies = os.fdopen(os.dup(1), "w", buffering=1)
    requests = sys.stdin
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)  # print() and os.write(1, ...) by the student's code are dropped
    sys.stdout = open(os.devnull, "w")
    namespace: dict = {"__name__": "__main__"}
    for line in requests:
        request = json.loads(line)
        try:
            reply = _handle(request, namespace)
            if "value" in reply:
                reply["value"] = plain(reply["value"], request.get("name", "value"))
        except Refused as problem:
            reply = {"error": str(problem)}
        except BaseException as problem:  # the student's error is the call's answer
            reply = {"error": f"{type(problem).__name__}: {problem}"}
        replies.write(json.dumps(reply) + "\n")


def _handle(request: dict, namespace: dict) -> dict:
    op = request["op"]
    if op == "setup":
        import kit

        namespace["kit"] = kit
        for source in request["sources"]:
            exec(compile(source, "<given cell>", "exec"), namespace)
        return {"ok": True}
    if op == "define":
        exec(
            compile(request["source"], f"<{request['name']}'s cell>", "exec"), namespace
        )
        if not callable(namespace.get(request["name"])):
            return {"error": f"{request['name']} is not defined by its cell"}
        return {"ok": True}
    function = namespace[request["name"]]
    return {"value": function(*request["args"], **request["kwargs"])}


if __name__ == "__main__":
    serve()
