# Two commands do everything on a fresh machine with Python 3.11+:
#   make demo   - set up .venv, run the demo against an embedded emulated account, write a pack
#   make test   - set up .venv, run lint (ruff), type checks (mypy) and every test (pytest)
#   make dist   - build the wheel into dist/ (install it with pip install 'dist/<wheel>[demo]')
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck dist clean

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "soc-evidence needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[demo,dev]'
	@touch $@

demo: $(BIN)/.installed
	$(BIN)/soc-evidence demo

test: $(BIN)/.installed lint typecheck
	$(BIN)/python -m pytest -q -p no:cacheprovider -n auto --dist loadfile

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

dist: $(BIN)/.installed
	$(BIN)/python -m build --wheel --outdir dist .

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build dist
