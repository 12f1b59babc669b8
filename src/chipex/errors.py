"""User-facing errors: each names the file, record and field so a person can fix the input.

Exit codes (the CLI's `main`): 2 for bad input (`ChipexError`), 4 when the input was fine but an
output could not be written (`OutputError`: disk full, permission denied, read-only folder).
"""

from __future__ import annotations

import codecs
import re

# C0 and C1 control characters (ESC starts a terminal escape sequence), DEL, and the bidirectional
# overrides that can make printed text read differently from what it is.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, *, newlines: bool = False) -> str:
    """`text` safe to print on a terminal: control characters and escapes shown as \\xNN or \\uNNNN."""

    def esc(m: re.Match[str]) -> str:
        c = m.group()
        if newlines and c == "\n":
            return c
        return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"

    return _CONTROL.sub(esc, str(text))


class ChipexError(Exception):
    """An error a user can act on; the CLI prints it as one line, never a traceback."""

    exit_code = 2

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
            where.append(f"record {self.record}" if isinstance(self.record, int) else str(self.record))
        if self.field:
            where.append(f"field '{self.field}'")
        text = ": ".join([", ".join(where), self.message]) if where else self.message
        return printable(text, newlines=True)


class OutputError(ChipexError):
    """An output file could not be written (an I/O failure, not bad input); nothing was left half-written."""

    exit_code = 4


class UnknownChipError(ChipexError):
    """A chip name that resolves to nothing, or to several chips (candidates listed)."""

    def __init__(self, name: str, candidates: list[str] | None = None) -> None:
        self.candidates = candidates or []
        if self.candidates:
            msg = f"'{name}' is ambiguous: did you mean {', '.join(self.candidates)}?"
        else:
            msg = f"unknown chip '{name}' (try 'chipex chips' to list the catalog)"
        super().__init__(msg)


def utf8_problem(
    data: bytes, start_line: int = 1, *, option: str | None = "--encoding"
) -> tuple[int, int, str] | None:
    """(line, column, message) of the first byte in `data` that is not UTF-8, or None when it all is.

    The message names the byte and, when charset-normalizer recognises the text, the encoding it
    looks like, so a cp1252 export from Excel can be re-read with `--encoding cp1252`."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(data, final=True)
        return None
    except UnicodeDecodeError as exc:
        pos = exc.start
    line = start_line + data.count(b"\n", 0, pos)
    column = pos - (data.rfind(b"\n", 0, pos) + 1) + 1
    guess = ""
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[max(0, pos - 4000) : pos + 4000]).best()
        if best is not None and best.encoding.replace("_", "") not in ("utf8", "ascii"):
            name = best.encoding.replace("_", "")
            guess = f"; it looks like {name} " + (
                f"(read it with {option} {name})" if option else "(save it as UTF-8)"
            )
    except ImportError:  # detection is a courtesy; the byte is named either way
        pass
    return line, column, f"not UTF-8: byte 0x{data[pos]:02X} at column {column}{guess}"
