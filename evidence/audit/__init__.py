"""Commands that work on sealed packs and write beside them, never inside (export, ...)."""
