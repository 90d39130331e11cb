# ebm_swift — the two commands of the README:
#   make demo   builds everything and trains a model on a toy dataset, writing demo.png
#   make test   runs the Swift tests and the Python tests
# Both install what is missing: a project virtualenv (.venv) with the Python dependencies, OpenBLAS
# among them (the scipy-openblas32 wheel); the package itself is pip-installed into .venv. The tests
# also need qemu-user and dataset-fashion-mnist (apt-get, when root).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEPS_STAMP := $(VENV)/.deps-installed

.PHONY: demo test build swift-test pytest test-deps wheel bench bench-threads sanitize clean

# The OpenBLAS of the scipy-openblas32 wheel, for the Swift tests (setup.py asks the wheel itself).
BLAS_DIRS = $(PY) -c "import scipy_openblas32 as s; print(s.get_include_dir(), s.get_lib_dir())"

demo: build
	$(PY) examples/demo.py --out demo.png

test: swift-test pytest

swift-test: $(DEPS_STAMP)
	set -e; dirs=$$($(BLAS_DIRS)); inc=$${dirs% *}; lib=$${dirs#* }; \
	swift test --disable-swift-testing -Xcc -I$$inc -Xlinker -L$$lib -Xlinker -rpath -Xlinker $$lib

pytest: build test-deps
	$(PY) -m pytest

build: $(DEPS_STAMP)
	$(PY) -m pip install --quiet --no-build-isolation .

# The peer benchmarks: install JAX (CPU) and PyTorch into .venv (PyPI's torch is its CUDA build,
# some gigabytes; its CPU kernels are what is measured). bench_cnn.py: the UvA CNN on 28×28 images;
# bench_hmc.py: HMC against BlackJAX on a correlated 10-D Gaussian.
bench: build
	$(PY) -m pip install --quiet "jax[cpu]" torch blackjax
	$(PY) benchmarks/bench.py --both-environments --json benchmarks/results.json
	$(PY) benchmarks/bench_cnn.py --json benchmarks/results_cnn.json
	$(PY) benchmarks/bench_hmc.py --json benchmarks/results_hmc.json

# The Swift tests under AddressSanitizer and LeakSanitizer (their own build folder).
sanitize: $(DEPS_STAMP)
	set -e; dirs=$$($(BLAS_DIRS)); inc=$${dirs% *}; lib=$${dirs#* }; \
	LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/lsan.supp ASAN_OPTIONS=detect_leaks=1 \
	swift test --disable-swift-testing --sanitize=address --scratch-path .build-sanitize \
	  -Xcc -I$$inc -Xlinker -L$$lib -Xlinker -rpath -Xlinker $$lib

bench-threads: build
	$(PY) benchmarks/threads.py

wheel: $(DEPS_STAMP)
	$(PY) -m pip wheel --no-build-isolation --no-deps -w dist .

# Debian packages the tests use: qemu-user runs the portability checks on emulated older CPUs
# (Haswell, Nehalem); dataset-fashion-mnist holds the Fashion-MNIST images.
TEST_PACKAGES := dataset-fashion-mnist $(if $(filter x86_64,$(shell uname -m)),qemu-user)
test-deps:
	@missing=""; for p in $(TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing$$missing with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "the tests need$$missing: run 'sudo apt-get install$$missing'" >&2; \
	    exit 1; \
	  fi; \
	fi

$(DEPS_STAMP): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

clean:
	rm -rf .build .build-avx2 .build-avx512 build dist *.egg-info python/*.egg-info demo.png
