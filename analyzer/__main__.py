"""`python -m analyzer` is the same command as `exaudit`."""

from analyzer.cli import main

main()
