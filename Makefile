# The README's commands. Nothing else is needed on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?= -n 2

.PHONY: help run test lint demo install clean

## List the targets, with the first sentence of the `## ` lines above each.
help:
	@awk '/^## /{doc = doc (doc ? " " : "") substr($$0, 4); next} \
		/^[a-z][a-z-]*:/{if (doc) {split($$1, t, ":"); sub(/[.;] .*/, "", doc); \
		printf "  make %-8s %s\n", t[1], doc}} {doc = ""}' $(MAKEFILE_LIST)

$(BIN)/shelfcheck: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/shelfcheck

## Create .venv and install shelfcheck into it (run it as .venv/bin/shelfcheck).
install: $(BIN)/shelfcheck

## The main job, on the embedded SQLite database (./shelfcheck.db), against the real guide; the
## detailed log goes to ./shelfcheck.log. refresh's exit status 3 (inconclusive: the network looked
## down, nothing was changed) is a correct outcome, so it does not fail make; 2, 4 and 75 do.
run: install
	@$(BIN)/shelfcheck --log-file shelfcheck.log refresh; status=$$?; \
	if [ $$status -eq 3 ]; then \
		echo "make run: refresh exit status 3 (inconclusive) is not an error here; see README.md"; \
		exit 0; \
	fi; \
	exit $$status

## Lint, type-check and run the whole test suite (SQLite and PostgreSQL).
test: install lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Lint (ruff) and type-check (mypy).
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy -p shelfcheck
	$(BIN)/lint-imports

## The offline demo: a loopback provider web, two weeks, every report and export.
demo: install
	$(BIN)/shelfcheck demo

## Remove .venv and the build and tool caches.
clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
