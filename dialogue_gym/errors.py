"""The errors dialogue-gym raises on purpose, in one hierarchy.

Each subclasses the built-in exception a caller would expect (``ValueError`` for a value that is
not allowed, ``TypeError`` for one of the wrong type, ``RuntimeError`` for a call out of order or
a backend that failed), so ``except ValueError`` keeps working; ``except DialogueGymError``
catches every one of ours and nothing else. Messages are worded for the library (the argument,
the file and line, what is allowed); ``dialogue_gym.cli`` maps the classes to exit codes:
:class:`InvalidInput` and its subclasses 2, :class:`BackendError` 1. Any other exception is a bug
and keeps its traceback.
"""

from __future__ import annotations


class DialogueGymError(Exception):
    """Base of every error dialogue-gym raises on purpose."""


class InvalidInput(DialogueGymError, ValueError):
    """An argument, option, spec or configuration that is not allowed; the message names it and
    what is allowed."""


class InvalidData(InvalidInput):
    """A file or record whose content cannot be used; the message names the file and, where
    there is one, the line."""


class InvalidOption(InvalidInput, TypeError):
    """A keyword the callee does not accept, or a value of the wrong type (an env's unknown option,
    a non-string action)."""


class UsageError(DialogueGymError, RuntimeError):
    """A call out of order, such as ``step()`` before ``reset()``."""


class BackendError(DialogueGymError, RuntimeError):
    """A chat backend's request failed for good (after the retry layer gave up, or a
    non-retryable error)."""


class MissingDependency(DialogueGymError, RuntimeError):
    """An optional package a feature needs is not installed; the message says what to install."""
