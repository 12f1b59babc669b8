"""How people and programs reach chipex: the command line (cli/), the HTTP API and the web UI."""
