"""Interactive widgets: a chat playground and a clickable next-token explorer."""

from kit.widgets.next_token import NextTokenExplorer, next_token_explorer
from kit.widgets.playground import Playground, playground

__all__ = ["NextTokenExplorer", "Playground", "next_token_explorer", "playground"]
