"""`python -m chipex` is the `chipex` command."""

from chipex.interfaces.cli import main

main()
