"""`python -m tsforecast ...` is the same as the `tsforecast` command."""

from tsforecast.cli import main

raise SystemExit(main())
