# ebm_swift — the two commands of the README:
#   make demo   builds everything and trains a model on a toy dataset, writing demo.png
#   make test   runs the Swift tests and the Python tests
# Both install what is missing: OpenBLAS (apt-get, when root) and a project virtualenv (.venv)
# with the Python dependencies; the package itself is pip-installed into .venv.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEPS_STAMP := $(VENV)/.deps-installed

.PHONY: demo test build swift-test pytest system-deps wheel bench bench-threads clean

demo: build
	$(PY) examples/demo.py --out demo.png

test: swift-test pytest

swift-test: system-deps
	swift test --disable-swift-testing

pytest: build
	$(PY) -m pytest

build: system-deps $(DEPS_STAMP)
	$(PY) -m pip install --quiet --no-build-isolation .

# The peer benchmark: installs JAX (CPU) into .venv; PyTorch is used when already installed.
bench: build
	$(PY) -m pip install --quiet "jax[cpu]"
	$(PY) benchmarks/bench.py --both-environments --json benchmarks/results.json

bench-threads: build
	$(PY) benchmarks/threads.py

wheel: system-deps $(DEPS_STAMP)
	$(PY) -m pip wheel --no-build-isolation --no-deps -w dist .

system-deps:
	@if ! pkg-config --exists openblas 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing libopenblas-dev and pkg-config with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev pkg-config >/dev/null; \
	  else \
	    echo "ebm_swift needs OpenBLAS and pkg-config: run 'sudo apt-get install libopenblas-dev pkg-config'" >&2; \
	    exit 1; \
	  fi; \
	fi

$(DEPS_STAMP): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

clean:
	rm -rf .build build dist *.egg-info python/*.egg-info demo.png
