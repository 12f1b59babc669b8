"""`python -m chipex` is the `chipex` command."""

from chipex.interfaces.fast import main

main()
