"""The tool's errors: a small hierarchy, turned into a message and an exit code only at the CLI."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILING = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3


class EvidenceToolError(Exception):
    """An error the user can act on; its message is one line."""

    exit_code = EXIT_USAGE


class ConfigError(EvidenceToolError):
    """controls.yaml (or another input file) is wrong: names file, line and field."""

    def __init__(self, file: str, line: int | None, field: str, problem: str) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.problem = problem
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {field}: {problem}" if field else f"{where}: {problem}")


class CredentialsError(EvidenceToolError):
    """No usable AWS credentials (none found, expired, or rejected)."""


class UsageError(EvidenceToolError):
    """A command-line argument that cannot work (unknown control id, no region...)."""


class NotAPackError(EvidenceToolError):
    """The folder given to verify/export is not an evidence pack."""
