"""``python -m aichat_provider`` is the ``aichat`` command (which another well-known tool also
names itself)."""

from .cli import main

raise SystemExit(main())
