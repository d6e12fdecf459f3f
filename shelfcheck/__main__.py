"""`python -m shelfcheck` runs the CLI."""

from shelfcheck.cli import main

if __name__ == "__main__":
    main()
