"""`python -m analyzer` is the same command as `exaudit`."""

from analyzer.cli import main

if __name__ == "__main__":  # a spawned worker imports this module too; it must not run the command again
    main()
