"""Contest domain functions: one function per state change, each owning its transaction."""
