# Two commands: `make run` and `make test` (`make test-fast` leaves out the slow tests). Each sets
# itself up on a fresh Debian machine with Python 3.11: system tools via apt-get (when root), .venv, the package.
# The tests run in TEST_WORKERS processes (pytest-xdist; `auto`: one more than the cores), a test file at a time
# per process, so a file's module fixtures are built once; TEST_WORKERS=0 runs them in this process.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
APT_PACKAGES := ffmpeg espeak-ng fonts-noto-cjk fonts-dejavu-core redis-server
PYTEST_ARGS ?=
TEST_WORKERS ?= auto
SPREAD := -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

.PHONY: run test test-fast setup system venv clean bench

run: setup
	$(BIN)/shortsbot run

test: setup
	$(BIN)/python -m pytest $(SPREAD) $(PYTEST_ARGS)

# The edit-test loop: everything but the tests marked slow (Whisper or rendering; see tests/conftest.py).
test-fast: setup
	$(BIN)/python -m pytest -m "not slow" $(SPREAD) $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/bench_engine.py
	$(BIN)/python bench/bench_judge.py

setup: system $(STAMP)

# Installs what is missing and only that: a second run costs a few dpkg look-ups.
system:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "Installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "Missing system packages:$$missing"; \
	    echo "Install them with: sudo apt-get install$$missing   (then run make again)"; exit 1; \
	  fi; \
	fi

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "shortsbot needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
