"""Errors that reach the user: each names what was wrong and where."""
from __future__ import annotations


class HarisError(Exception):
    """Base of every error haris raises on purpose; the CLI prints it without a traceback."""

    exit_code = 1


class InputError(HarisError):
    """Input that cannot be read as what it claims to be.

    Carries the file and the line (1-based) or byte offset (0-based) where the
    problem was found, and what was expected there, so that a person can open
    the file at that place and see the problem.
    """

    exit_code = 3

    def __init__(self, path: str, problem: str, *, line: int | None = None,
                 offset: int | None = None, expected: str | None = None):
        self.path = str(path)
        self.problem = problem
        self.line = line
        self.offset = offset
        self.expected = expected
        where = self.path
        if line is not None:
            where += f":{line}"
        if offset is not None:
            where += f" (byte {offset})"
        msg = f"{where}: {problem}"
        if expected:
            msg += f"; expected {expected}"
        super().__init__(msg)


class UnknownFormatError(InputError):
    """The file matches none of the formats haris reads."""


class ConfigError(HarisError):
    """A setting, policy or data file that is invalid."""

    exit_code = 2


class NotFoundError(HarisError):
    """An id, file or record that does not exist."""

    exit_code = 4
