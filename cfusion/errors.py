"""Typed errors that the CLI turns into one-line messages (exit 1), never tracebacks."""

from __future__ import annotations


class CfusionError(Exception):
    """Base class: `str(err)` is the one-line message; `hint` is an optional actionable next step."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


class UsageError(CfusionError):
    """Bad command-line arguments (exit 2)."""

    exit_code = 2


class DataError(CfusionError):
    """A data file is missing or malformed; the message names the file and line."""


class CheckpointError(CfusionError):
    """A checkpoint is missing, truncated or does not match the code or config."""


class ModelNotInstalledError(CfusionError):
    """No trained model is available for the requested language."""
