# Two commands do all the set-up on a fresh machine with Python 3.11 and make:
#   make book   - create .venv if needed, install pinned requirements, build the HTML book
#   make test   - the same environment, then the whole test suite (includes a clean strict build)
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BUILD_FLAGS := -W -n --keep-going

.PHONY: book test clean serve data lint env

env: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

# Jupyter's execution cache keys notebooks on their code only. Until the cache tracks the
# data each chapter reads, any change under data/ or kgbook/ clears it, so no page can show
# numbers computed from old data.
INPUTS_HASH = $(shell cat $$(find data kgbook -type f \( -name '*.csv' -o -name '*.json' -o -name '*.py' \) | sort) | sha256sum | cut -c1-16)

book: $(STAMP)
	@mkdir -p _build
	@if [ "$$(cat _build/.inputs-hash 2>/dev/null)" != "$(INPUTS_HASH)" ]; then \
	  echo "data/ or kgbook/ changed: clearing the execution cache"; \
	  rm -rf _build/.jupyter_cache; echo "$(INPUTS_HASH)" > _build/.inputs-hash; fi
	$(BIN)/jupyter-book build . $(BUILD_FLAGS)
	@echo ""
	@echo "The book is in _build/html. Open _build/html/index.html in a browser,"
	@echo "or run 'make serve' and visit http://127.0.0.1:8000/"

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check kgbook tests

# Rebuild data/ extracts from ../shared/sources (not needed to build or test the book).
data: $(STAMP)
	$(BIN)/python -m kgbook.derive --check-facts

serve:
	@test -f _build/html/index.html || { echo "No book yet: run 'make book' first"; exit 1; }
	@echo "Serving _build/html on http://127.0.0.1:8000/ (Ctrl-C to stop)"
	$(PYTHON) -m http.server 8000 --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build .pytest_cache
