"""Judging domain. ``ranking`` and ``assignment`` are pure (no I/O, no database, no web framework)."""
