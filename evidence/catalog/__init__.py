"""Stage 1: controls.yaml loaded, validated against the check registry, every error located."""
