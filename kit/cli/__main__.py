"""python -m kit.cli: the teacher's command line."""

from kit.cli import main

raise SystemExit(main())
