# Two commands for a new user: `make demo` and `make test`. Both set everything up from nothing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= demo-out
MUTATE ?=
MUTATE_JOBS ?= 1

.PHONY: demo test bench lint clean sysdeps benchdeps mutate

# apt packages the tests need: GDAL's own command-line tools (gdalinfo, gdaldem) as references,
# and Chromium with its WebDriver for the browser test of map.html.
sysdeps:
	@need=""; \
	command -v gdaldem >/dev/null 2>&1 || need="$$need gdal-bin"; \
	test -x /usr/bin/chromium || need="$$need chromium"; \
	test -x /usr/bin/chromedriver || need="$$need chromium-driver"; \
	if [ -n "$$need" ]; then \
	  echo "installing$$need (reference tools and browser for tests)" >&2; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$need >/dev/null; \
	fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/frigoris demo --out $(OUT) --overwrite

test: $(VENV)/.installed-test sysdeps
	$(BIN)/python -m pytest -q

# GNU time measures the benchmarks' peak memory from outside the process.
benchdeps: sysdeps
	@test -x /usr/bin/time || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq time >/dev/null; }

bench: $(VENV)/.installed-test benchdeps
	$(BIN)/python -m benchmarks

$(VENV)/.installed-mutate: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,bench,mutate]'
	touch $@ $(VENV)/.installed-test $(VENV)/.installed

# Mutation testing of the checkers, validators, hazard limits and deployment checks (cosmic-ray,
# tests/mutation/mutate.py). MUTATE="traverse deploy" runs some targets only; MUTATE_JOBS targets
# run side by side. Sessions persist in build/mutate (an interrupted run goes on); the report is
# build/mutate/report.md. Not part of `make test`: it takes a long time (see the README).
mutate: $(VENV)/.installed-mutate sysdeps
	$(BIN)/python -m tests.mutation.mutate --jobs $(MUTATE_JOBS) $(MUTATE)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check __init__.py terrain planners rover tests benchmarks
	$(BIN)/ruff format --check __init__.py terrain planners rover tests benchmarks

clean:
	rm -rf $(VENV) $(OUT) build *.egg-info
