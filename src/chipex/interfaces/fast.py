"""The `chipex` entry point: answers that need no command framework, then the Typer app.

`chipex --version` prints one line from the installed package's metadata; importing Typer, rich
and pydantic for it (what `chipex.interfaces.cli` does) took most of its start-up time. Every
other command line goes to chipex.interfaces.cli.main unchanged.
"""

from __future__ import annotations

import sys


def program_version() -> str:
    """`chipex <version>` of the installed distribution, as importlib.metadata.version('chipex')
    gives it (the first chipex-*.dist-info along sys.path), read without importing
    importlib.metadata and the email parser behind it (~0.05 s)."""
    import os

    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.startswith("chipex-") and name.endswith((".dist-info", ".egg-info")):
                version = _metadata_version(os.path.join(entry or ".", name))
                if version:
                    return f"chipex {version}"
    from importlib import metadata  # not found the quick way (a zip, an unusual layout)

    try:
        return f"chipex {metadata.version('chipex')}"
    except metadata.PackageNotFoundError:
        return "chipex (not installed: running from a source tree)"


def _metadata_version(folder: str) -> str | None:
    import os

    for meta in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(folder, meta), encoding="utf-8") as fh:
                for line in fh:
                    if line.startswith("Version:"):
                        return line.split(":", 1)[1].strip()
                    if not line.strip():
                        break  # the headers end at the first blank line
        except OSError:
            continue
    return None


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        print(program_version())
        return
    from chipex.interfaces.cli import main as cli_main

    cli_main()
