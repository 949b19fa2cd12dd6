"""Reading TOML files: one place that parses them and says which file and line is wrong."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


class TomlError(ValueError):
    """A TOML file that cannot be read: `path`, and `detail` (it names the line)."""

    def __init__(self, path: Path, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(f"{path}: {detail}")


def read_toml(path: Path | str) -> dict[str, Any]:
    """Return the tables of a UTF-8 TOML file (TomlError naming the file and line)."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise TomlError(path, str(err)) from None
