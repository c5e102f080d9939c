# The two commands of the README. Each sets up its own virtual environment in .venv
# (created on first use, reinstalled when pyproject.toml changes).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# nbgrader runs tools of the environment (alembic) by name: put them first on PATH.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: test test-fast course lint clean provision

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "Python 3.10 or newer is needed (found $$($(PYTHON) --version))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@# an editable install skips data files: formgrader's Content-Security-Policy extension
	install -D -m 644 jupyter-config/jupyter_server_config.d/dfnn-course.json \
		$(VENV)/etc/jupyter/jupyter_server_config.d/dfnn-course.json
	touch $(STAMP)

## make test: every test: the package, the chapters (nbval), assignments, grader, lint
test: $(STAMP) provision
	$(BIN)/python -m pytest

## make test-fast: every test not marked browser, sandbox or slow (markers: pyproject.toml)
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not browser and not sandbox and not slow"

## system packages of the tests (bubblewrap, PostgreSQL, Chromium); a no-op once present
provision:
	sh ci/provision.sh

## make course: build the releases, grade the demo class, build the website build/site/
course: $(STAMP)
	$(BIN)/python -m autograder.course_build
	$(BIN)/python docs/site/build_site.py

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf build submitted autograded feedback gradebook.db similarity
