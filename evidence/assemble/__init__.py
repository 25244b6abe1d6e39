"""Stage 5: a pack's folder finished: results.json, exports, README.txt, then the seal."""
