"""On-disk formats of a pack: raw evidence, the run, the hidden build folder, seal and verify."""
