"""User-facing errors: each names the file, record and field so a person can fix the input."""

from __future__ import annotations


class ChipexError(Exception):
    """An error a user can act on; the CLI prints it as one line, never a traceback."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        record: str | int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.record = record
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.record is not None:
            where.append(f"record {self.record}")
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{': '.join([', '.join(where), self.message]) if where else self.message}"


class UnknownChipError(ChipexError):
    """A chip name that resolves to nothing, or to several chips (candidates listed)."""

    def __init__(self, name: str, candidates: list[str] | None = None) -> None:
        self.candidates = candidates or []
        if self.candidates:
            msg = f"'{name}' is ambiguous: did you mean {', '.join(self.candidates)}?"
        else:
            msg = f"unknown chip '{name}' (try 'chipex chips' to list the catalog)"
        super().__init__(msg)
