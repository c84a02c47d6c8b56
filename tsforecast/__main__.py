"""`python -m tsforecast ...` is the same as the `tsforecast` command."""

from tsforecast.cli.main import main

raise SystemExit(main())
