"""``python -m aichat_provider`` is the ``aichat`` command (which another well-known tool also
names itself)."""

from ._cli import main

raise SystemExit(main())
