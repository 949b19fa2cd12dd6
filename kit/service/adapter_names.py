"""Adapter names and ids, and owners as folder names (reversible, safe on every disk).

An owner (a hub user name, maybe an e-mail) becomes a folder name by keeping
A-Z a-z 0-9 . _ - and writing every other byte of its UTF-8 as %XX (a leading "." too):
reversible, so the store can list owners from its folders.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from kit.errors import SettingError

NAME = re.compile(r"[^\W_][\w.-]{0,63}")  # a letter (Hangul too) or digit first
SAFE = "._-"  # with ASCII letters and digits: kept as they are in owner folders


def check_name(name: object) -> str:
    """Return the adapter name (NFC), or raise SettingError naming the rule."""
    if isinstance(name, str):
        name = unicodedata.normalize("NFC", name)
        if NAME.fullmatch(name) and ".." not in name:
            return name
    raise SettingError("adapter_bad_name", name=str(name)[:80])


def owner_folder(owner: object) -> str:
    """Return the folder name of `owner` (reversible: see the module docstring)."""
    if not isinstance(owner, str) or not owner.strip() or len(owner) > 200:
        raise SettingError("adapter_bad_owner", owner=str(owner)[:80])
    folder = quote(owner, safe=SAFE)
    folder = "%2E" + folder[1:] if folder.startswith(".") else folder
    if len(folder) > 200:  # file systems allow 255 bytes per name
        raise SettingError("adapter_bad_owner", owner=owner[:80])
    return folder


def split_id(adapter_id: object) -> tuple[str, str]:
    """Return (owner, name) of an id "owner/name", or raise SettingError."""
    if isinstance(adapter_id, str) and "/" in adapter_id:
        owner, _, name = adapter_id.rpartition("/")
        if owner:
            owner_folder(owner)
            return owner, check_name(name)
    raise SettingError("adapter_bad_id", id=str(adapter_id)[:120])
