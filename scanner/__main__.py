"""`python -m scanner` runs the `leftovers` command line."""

from scanner.cli import main

raise SystemExit(main())
