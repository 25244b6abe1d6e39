"""Stage 3: raw/ + catalogue + as-of time -> one result per control (pure, offline)."""
