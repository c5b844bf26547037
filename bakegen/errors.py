"""The one error type bakegen raises for bad input; the CLI maps it to exit code 2."""

from __future__ import annotations

from collections.abc import Iterable


class BakegenError(Exception):
    """Bad input or an impossible request: one line for the user, no traceback.

    ``where`` names the place the problem is (``file:line`` or an option), and is put in
    front of the message when the error is shown.
    """

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(message, where)  # both in args, so the error survives pickling
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ' (did you mean "x"?)' hint when one of ``choices`` is close to ``word``, else ''."""
    import difflib

    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""
