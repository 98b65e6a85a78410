"""`python -m medvault.guard check ...`: the guard's command line without `medvault.cli`'s other areas."""

from medvault.guard._cli import main

main()
