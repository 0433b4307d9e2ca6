# Two commands do all the set-up on a fresh machine with Python 3.11 and make:
#   make book   - create .venv if needed, install pinned requirements, build the HTML book
#   make test   - the same environment, then the whole test suite (includes a clean strict build)
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BUILD_FLAGS := -W -n --keep-going

.PHONY: book test clean serve data lint env bench dist pdf figures

env: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

# Jupyter's execution cache keys notebooks on their code only. The kgbook.cache Sphinx extension
# (listed in _config.yml) makes it exact: before Sphinx reads a page it drops the cached outputs
# of every chapter whose receipt no longer matches the data files it read, the kgbook modules it
# imported or the package versions, executes the missing notebooks in parallel and has Sphinx
# re-read exactly those pages. 'python -m kgbook.cache status _build' shows what is stale.
book: $(STAMP)
	$(BIN)/jupyter-book build . $(BUILD_FLAGS)
	@echo ""
	@echo "The book is in _build/html. Open _build/html/index.html in a browser,"
	@echo "or run 'make serve' and visit http://127.0.0.1:8000/"

# The PDF edition through LaTeX (_build/latex/book.pdf), then the HTML again so that every page
# links the PDF and the site ships it as book.pdf (kgbook/sphinx_edition.py). Needs xelatex and
# latexmk (Debian: texlive-xetex texlive-latex-extra texlive-fonts-recommended latexmk
# fonts-freefont-otf; .ci/run installs them).
pdf: $(STAMP)
	$(BIN)/jupyter-book build . --builder pdflatex $(BUILD_FLAGS)
	$(BIN)/jupyter-book build . $(BUILD_FLAGS)
	@echo ""
	@echo "The PDF is _build/latex/book.pdf (also _build/html/book.pdf, linked from every page)."

# The deployable site dist/site and the versioned archives, each with a .sha256 file: the site
# (dist/<name>-<version>.zip), the PDF when 'make pdf' built one, the chapters as notebooks.
# Fails on build logs, source maps or broken internal links. The site's address defaults to
# http://127.0.0.1:8000/; set KGBOOK_BASE_URL=https://... for the published one (README).
dist: book
	$(BIN)/python -m kgbook.dist

test: $(STAMP)
	$(BIN)/python -m pytest

# Build times, page weights and Lighthouse scores on this machine (not part of make test):
# writes benchmarks/results.md and benchmarks/results.json.
bench: $(STAMP)
	$(BIN)/python -m kgbook.bench

lint: $(STAMP)
	$(BIN)/ruff check kgbook tests

# Regenerate every figure bundle in figures/ (English and Russian PNG, SVG, PDF, slide, CSV,
# metadata) by running the chapters headless, without building the HTML; see kgbook/bundles.py.
figures: $(STAMP)
	$(BIN)/python -m kgbook.bundles

# Rebuild data/ extracts from ../shared/sources (not needed to build or test the book).
data: $(STAMP)
	$(BIN)/python -m kgbook.derive --check-facts

serve:
	@test -f _build/html/index.html || { echo "No book yet: run 'make book' first"; exit 1; }
	@echo "Serving _build/html on http://127.0.0.1:8000/ (Ctrl-C to stop)"
	$(PYTHON) -m http.server 8000 --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build dist .pytest_cache
