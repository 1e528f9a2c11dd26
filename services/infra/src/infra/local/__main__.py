"""``python -m infra.local``: the same as ``iris-stack``."""

from infra.local.cli import main

raise SystemExit(main())
