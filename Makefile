# The course's two commands (see README): `make demo` runs the main job, `make test` the tests.
# Both create the project-local virtual environment .venv on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# nbgrader calls `alembic` from PATH when it creates a gradebook: keep the venv first on PATH.
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: demo test venv generate check-generated mutation bench clean

venv: $(STAMP)

# torch==2.13.0 first: it is the CPU wheel; pyproject.toml only asks for a range (Colab keeps its own).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

demo: $(STAMP)
	$(PY) -m autograder demo --out build/demo

test: $(STAMP)
	$(PY) -m pytest

generate: $(STAMP)
	$(PY) -m autograder generate

mutation: $(STAMP)
	$(PY) -m autograder mutate

bench: $(STAMP)
	$(PY) tests/benchmarks/bench_build.py

clean:
	rm -rf build .pytest_cache
