"""The one error every model wrapper raises when its model cannot run."""

from __future__ import annotations

from pathlib import Path


class ModelUnavailable(RuntimeError):
    """A model cannot run: weights missing, unloadable, or a library it needs is absent.

    Callers report the reason and carry on without the model (motion triggering without a
    detector, no enrollment without faces), so the reason is written for an operator.

    Attributes:
        reason: one human sentence saying what is wrong and how to fix it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def missing_weights_reason(path: Path) -> str:
    """The message for absent detector weights, pointing at the command that fetches them."""
    return f"no detector weights at {path}; run `iris models pull`"
