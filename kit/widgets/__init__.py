"""Interactive widgets: a chat playground, a clickable next-token explorer, quizzes."""

from kit.widgets.next_token import NextTokenExplorer, next_token_explorer
from kit.widgets.playground import Playground, playground
from kit.widgets.quiz_widget import Quiz, quiz

__all__ = [
    "NextTokenExplorer",
    "Playground",
    "Quiz",
    "next_token_explorer",
    "playground",
    "quiz",
]
