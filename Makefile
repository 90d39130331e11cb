# ebm_swift — the two commands of the README:
#   make demo   builds everything and trains a model on a toy dataset, writing demo.png
#   make test   runs the Swift tests and the Python tests (what CI runs)
#   make test-fast  the same without the long quality runs (pytest marker `slow`), for day-to-day work
# Both install what is missing: a project virtualenv (.venv) with the Python dependencies, OpenBLAS
# among them (the scipy-openblas32 wheel); the package itself is pip-installed into .venv. The tests
# also need qemu-user and dataset-fashion-mnist (apt-get, when root).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEPS_STAMP := $(VENV)/.deps-installed

.PHONY: demo test test-fast build swift-test pytest test-deps wheel bench bench-threads bench-products sanitize memcheck clean docs

# The OpenBLAS of the scipy-openblas32 wheel, for the Swift tests (setup.py asks the wheel itself).
BLAS_DIRS = $(PY) -c "import scipy_openblas32 as s; print(s.get_include_dir(), s.get_lib_dir())"

demo: build
	$(PY) examples/demo.py --out demo.png

test: swift-test pytest

test-fast: swift-test build test-deps
	$(PY) -m pytest -m "not slow"

# Optimised (-O, as the library ships): the statistical tests draw millions of samples, 60× slower
# unoptimised (3 s against 208 s); `make sanitize` runs them unoptimised, with assert() active.
swift-test: $(DEPS_STAMP)
	set -e; dirs=$$($(BLAS_DIRS)); inc=$${dirs% *}; lib=$${dirs#* }; \
	swift test --disable-swift-testing -Xswiftc -O -Xcc -I$$inc -Xlinker -L$$lib -Xlinker -rpath -Xlinker $$lib

pytest: build test-deps
	$(PY) -m pytest

# The documentation site (Sphinx; any warning fails the build): docs/_build/html/index.html.
docs: build test-deps
	$(PY) -m sphinx -E -W --keep-going -b html docs docs/_build/html

build: $(DEPS_STAMP)
	$(PY) -m pip install --quiet --no-build-isolation .

# The benchmarks against the peers (benchmarks/run.py; its suites mlp, cnn, hmc, score and
# distributed, each peer defined once in benchmarks/peers/): installs JAX (CPU), PyTorch and BlackJAX
# into .venv (PyPI's torch is its CUDA build, some gigabytes; its CPU kernels are what is measured)
# and writes benchmarks/results_<suite>.json. `python benchmarks/run.py cnn` runs one suite.
bench: build
	$(PY) -m pip install --quiet "jax[cpu]" torch blackjax
	$(PY) benchmarks/run.py --blas-environments

# The Swift tests under AddressSanitizer and LeakSanitizer (their own build folder); then the
# package — core with AddressSanitizer, shim with AddressSanitizer and UndefinedBehaviorSanitizer
# (clang's runtime for both, preloaded into the uninstrumented Python; setup.py's
# EBM_SWIFT_SANITIZE) — built from a copy of the tree, under a pytest subset. Any report fails.
SANITIZE_DIR := .build-sanitize-python
SANITIZE_TESTS := python/tests/energies python/tests/samplers/test_samplers.py python/tests/samplers/test_hmc.py \
	python/tests/samplers/test_chains.py \
	python/tests/nn python/tests/training/test_training.py python/tests/training/test_toolbox.py \
	python/tests/safety/test_regressions.py python/tests/safety/test_fuzz.py python/tests/safety/test_validation.py \
	python/tests/platform/test_abi.py python/tests/training/test_objectives.py python/tests/training/test_jem.py \
	python/tests/safety/test_hostile_inputs.py
# The soak's flat-RSS check runs in `make test`: ASan's quarantine of freed blocks grows RSS on purpose.
SANITIZE_DESELECT := --deselect python/tests/safety/test_regressions.py::test_soak_memory_and_descriptors_stay_flat \
	-k "not learns_the_density and not learns_fashion_mnist"
sanitize: $(DEPS_STAMP)
	set -e; dirs=$$($(BLAS_DIRS)); inc=$${dirs% *}; lib=$${dirs#* }; \
	LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/lsan.supp ASAN_OPTIONS=detect_leaks=1 \
	swift test --disable-swift-testing --sanitize=address --scratch-path .build-sanitize \
	  -Xcc -I$$inc -Xlinker -L$$lib -Xlinker -rpath -Xlinker $$lib
	rm -rf $(SANITIZE_DIR)/site && mkdir -p $(SANITIZE_DIR)/src
	tar --exclude='./.build*' --exclude=./build --exclude=./.venv --exclude=./.git -cf - . | tar -xf - -C $(SANITIZE_DIR)/src
	cd $(SANITIZE_DIR)/src && EBM_SWIFT_SANITIZE=address CC=clang LDSHARED="clang -shared" \
	  $(CURDIR)/$(PY) -m pip install --quiet --no-build-isolation --no-deps --target $(CURDIR)/$(SANITIZE_DIR)/site .
	set -e; export LD_PRELOAD=$$(clang -print-file-name=libclang_rt.asan-x86_64.so) \
	  ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1 PYTHONPATH=$(SANITIZE_DIR)/site EBM_SWIFT_ISA=baseline; \
	for f in $(SANITIZE_DIR)/site/ebm_swift/_native*.so $(SANITIZE_DIR)/site/ebm_swift/libebm_swift.so; do \
	  nm -D $$f | grep -q __asan_report || { echo "$$f is not instrumented"; exit 1; }; done; \
	nm -D $(SANITIZE_DIR)/site/ebm_swift/_native*.so | grep -q __ubsan || { echo "the shim lacks UBSan"; exit 1; }; \
	out=$$($(PY) -c "import ctypes, numpy as np; a, b = np.zeros(4), np.zeros(64); ctypes.memmove(b.ctypes.data, a.ctypes.data, 256)" 2>&1 || true); \
	echo "$$out" | grep -q heap-buffer-overflow || { echo "AddressSanitizer is not active"; exit 1; }; \
	$(PY) -m pytest -q -p no:cacheprovider $(SANITIZE_TESTS) $(SANITIZE_DESELECT)

# Valgrind memcheck of a pytest subset: no error or definite leak with an ebm_swift frame.
memcheck: build
	$(PY) benchmarks/memcheck.py

bench-threads: build
	$(PY) benchmarks/threads.py

wheel: $(DEPS_STAMP)
	$(PY) -m pip wheel --no-build-isolation --no-deps -w dist .

# Debian packages the tests use: qemu-user runs the portability checks on emulated older CPUs
# (Haswell, Nehalem); dataset-fashion-mnist holds the Fashion-MNIST images.
TEST_PACKAGES := dataset-fashion-mnist $(if $(filter x86_64,$(shell uname -m)),qemu-user)
test-deps:
	@$(call debian_packages,$(TEST_PACKAGES),the tests)

# `$(call debian_packages,PACKAGES,WHO)`: installs those of PACKAGES that are missing with apt-get
# when root, else fails naming them.
define debian_packages
missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
if [ -n "$$missing" ]; then \
  if [ "$$(id -u)" = 0 ]; then \
    echo "installing$$missing with apt-get"; \
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
  else \
    echo "$(2) need$$missing: run 'sudo apt-get install$$missing'" >&2; \
    exit 1; \
  fi; \
fi
endef

# One matrix product at a time on one core: OpenBLAS (as the core calls it) against libxsmm's JIT
# kernels and oneDNN's matmul with pre-packed weights, on the shapes of the UvA CNN and the MLPs
# (benchmarks/products/small_products.c; Debian's libxsmm-dev and libdnnl-dev). docs/performance.md
# gives the figures and why the core keeps OpenBLAS.
bench-products: $(DEPS_STAMP)
	@$(call debian_packages,libxsmm-dev libdnnl-dev,the product benchmark)
	set -e; dirs=$$($(BLAS_DIRS)); inc=$${dirs% *}; lib=$${dirs#* }; \
	gcc -O2 -march=native -o .build-products benchmarks/products/small_products.c -I$$inc -L$$lib \
	  -lxsmm -lxsmmnoblas -lscipy_openblas -ldnnl -lm -lpthread -ldl -Wl,-rpath,$$lib; \
	OMP_NUM_THREADS=1 ./.build-products

$(DEPS_STAMP): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

clean:
	rm -rf .build .build-avx2 .build-avx512 .build-products build dist *.egg-info python/*.egg-info demo.png
