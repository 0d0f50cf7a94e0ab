# ChimeraX bundle targets (included by the top Makefile).
#   make chimerax-venv  - .venv-chimerax: ChimeraX 1.7.1 from the PyPI wheel, the core, the bundle
#   make bundle         - the bundle wheel + the core wheel it needs (setuptools; no ChimeraX needed)
#   make bundle-classifiers - rewrite bundle_chimerax/chimerax-classifiers.txt with ChimeraX's bundle builder
#   make test-chimerax  - the ChimeraX tests: real headless ChimeraX sessions running saprot commands
#
# The only ChimeraX that installs here is the PyPI wheel `chimerax` 0.1.71 (ChimeraX 1.7.1 core,
# yanked upstream). Its declared dependencies pin packages that do not build, so it is installed
# --no-deps with the list below (details: tests/chimerax/chimerax_harness/README.md). Every step is skipped
# when its stamp is newer than what it depends on, so repeated runs are cheap.

CX_VENV ?= .venv-chimerax
CX_PY := $(CX_VENV)/bin/python
CX_PIP := $(CX_PY) -m pip
CX_PYTHON ?= $(shell command -v python3.11 || command -v python3)
CX_STAMP := $(CX_VENV)/.chimerax-installed
CX_BUNDLE_STAMP := $(CX_VENV)/.saprot-bundle-installed
CX_TEST_MODEL_DIR := $(CX_VENV)/test-model
CX_TEST_MODEL := $(CX_TEST_MODEL_DIR)/tiny.onnx
CX_WHEEL := chimerax==0.1.71
# What the wheel's modules import at start-up, pinned where ChimeraX 1.7.1 needs an old release
# (numpy 1.x ABI). lz4: session files; PyQt6: text in colour keys and thumbnails (offscreen Qt).
CX_DEPS := numpy==1.26.4 tinyarray sortedcontainers appdirs psutil filelock Pillow==10.2.0 msgpack \
  packaging pkginfo requests PyOpenGL Cython==3.0.8 tomli grako pydicom==2.3.0 pandas ipywidgets wheel \
  matplotlib==3.8.2 distro html2text lz4 setuptools PyQt6 pytest wheel-filename==1.4.1
# The core's own dependencies, resolved against the pins above (they must accept numpy 1.26), and pyarrow
# (the core's batch extra) so `saprot load` can read batch output folders.
CX_CORE_DEPS := "numpy==1.26.4" "matplotlib==3.8.2" "biotite>=1.1" "gemmi>=0.6" "onnxruntime>=1.17" "tqdm>=4.60" \
  "pyarrow==15.0.2"
# OSMesa for offscreen images; EGL/fontconfig/xkbcommon/dbus/glib for PyQt6's offscreen platform.
CX_APT := libosmesa6 libgl1 libglu1-mesa libegl1 libfontconfig1 fonts-dejavu-core libglib2.0-0 \
  libxkbcommon0 libdbus-1-3
CX_BUNDLE_SOURCES := bundle_chimerax/pyproject.toml bundle_chimerax/README.md bundle_chimerax/chimerax-classifiers.txt \
  $(shell find bundle_chimerax/src -type f \( -name '*.py' -o -name '*.html' \) 2>/dev/null)

.PHONY: chimerax-sysdeps chimerax-venv bundle bundle-classifiers test-chimerax

chimerax-sysdeps:
	@missing=""; for p in $(CX_APT); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null \
	      || echo "could not install$$missing: offscreen-image tests will be skipped"; \
	  else echo "missing system packages:$$missing (offscreen-image tests will be skipped)"; fi; fi

$(CX_STAMP): bundle_chimerax/bundle.mk core/pyproject.toml
	@$(CX_PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
	  { echo "the chimerax wheel is built for CPython 3.11; set CX_PYTHON=/path/to/python3.11"; exit 2; }
	test -x $(CX_PY) || $(CX_PYTHON) -m venv $(CX_VENV)
	$(CX_PIP) install -q --upgrade pip
	$(CX_PIP) install -q $(CX_DEPS)
	$(CX_PIP) install -q --no-deps $(CX_WHEEL) tcia-utils==1.5.1
	$(CX_PIP) install -q $(CX_CORE_DEPS)
	$(CX_PIP) install -q --no-deps -e core
	$(CX_PY) -c 'import chimerax.core, saprot_scan, numpy; assert numpy.__version__ == "1.26.4", numpy.__version__'
	touch $@

# The bundle, built and installed by ChimeraX's bundle builder (PEP 517 backend inside the wheel).
$(CX_BUNDLE_STAMP): $(CX_STAMP) $(CX_BUNDLE_SOURCES)
	$(CX_PIP) install -q --no-build-isolation --no-deps --force-reinstall ./bundle_chimerax
	touch $@

chimerax-venv: chimerax-sysdeps $(CX_BUNDLE_STAMP)

# The two wheels ChimeraX users install, built by setuptools (pip fetches it): no ChimeraX, no test venv.
# The script prints their full paths and the two ChimeraX commands that install them.
BUNDLE_PYTHON ?= python3
bundle:
	$(BUNDLE_PYTHON) bundle_chimerax/build_wheels.py bundle_chimerax/dist

# After changing the [chimerax] table of bundle_chimerax/pyproject.toml: ChimeraX's own bundle builder
# (`devel build`, in the test ChimeraX) writes the classifiers the setuptools build puts into the wheel.
bundle-classifiers: $(CX_STAMP)
	cd tests/chimerax && $(abspath $(CX_PY)) -m chimerax_harness.bundle_classifiers

# A small random SaProt-format model, exported by the core's exporter (needs torch: the main venv).
$(CX_TEST_MODEL): $(CX_STAMP) | venv
	$(PY) -m saprot_scan.testing.make_tiny_model $(CX_TEST_MODEL_DIR)

test-chimerax: chimerax-venv $(CX_TEST_MODEL)
	SAPROT_CHIMERAX_TEST_MODEL=$(abspath $(CX_TEST_MODEL)) OMP_NUM_THREADS=1 \
	  $(CX_PY) -m pytest --noconftest -q -rs -p no:cacheprovider tests/chimerax
