"""`python -m medvault` is the `medvault` command."""

from medvault.cli import main

main()
