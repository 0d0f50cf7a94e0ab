# saprot-scan: every target installs what it needs itself (see README.md).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.demo-installed
EXAMPLE ?= examples/1aki.cif
DEMO_OUT ?= demo-out

.PHONY: all venv test test-core test-fullsize demo demo-inputs demo-run clean help
all: help

help:
	@echo "make demo    - install, score the example structure, write heatmap + CSV + rendered image"
	@echo "make test    - install everything and run the test suites (core, CLI, PyMOL, ChimeraX)"
	@echo "make test-fullsize - SaProt 35M and 650M at real size: import without torch, fp16, int8, scans (~30 min)"
	@echo "make bench   - benchmarks -> BENCHMARKS.md"
	@echo "make plugin  - PyMOL Plugin-Manager zip (core inside);  make bundle - ChimeraX wheels + the commands that install them"

venv: $(STAMP)
$(STAMP): core/pyproject.toml $(wildcard plugin_pymol/requirements-test.txt)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e 'core[fetch,test,ray]' pymol-open-source $(if $(wildcard plugin_pymol/requirements-test.txt),-r plugin_pymol/requirements-test.txt)
	touch $(STAMP)

test-core: venv pymol-test-sysdeps report-test-sysdeps
	$(PY) -m pytest tests -q -rs -p no:cacheprovider -m "not fullsize"

# Issue 18: SaProt 35M and 650M at their real size through models import (no torch), fp16 and int8, scans
# against PyTorch. About 30 minutes on 2 cores and several GB of memory (PyTorch's 650M reference; the int8
# step peaked at 8 GB before issue 25, 2.7 GB now): run it before each release.
test-fullsize: venv
	SAPROT_SCAN_FULLSIZE_DIR=$(CURDIR)/bench/_work/fullsize $(PY) -m pytest tests/core/test_fullsize.py -q -rs -p no:cacheprovider -m fullsize -s

test: test-core
	$(MAKE) test-chimerax

# The demo needs only the core (ONNX Runtime, no torch/transformers), PyMOL and the plugin's renderer;
# a venv that `make venv` already filled has all of that. Its inputs are checked before anything installs.
# pip runs with -qq and without its warning lines (setuptools' and the index's notes filled pages); an import
# check after it says whether the install worked.
$(DEMO_STAMP): core/pyproject.toml plugin_pymol/pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	@if [ -f $(STAMP) ] && [ $(STAMP) -nt core/pyproject.toml ]; then echo "using the full test venv $(VENV)"; else \
	  $(PIP) install -qq --disable-pip-version-check --upgrade pip && \
	  $(PIP) install -qq --disable-pip-version-check -e core pymol-open-source 2>&1 | grep -v -i "warning" || true; \
	  $(PIP) install -qq --disable-pip-version-check --no-deps -e plugin_pymol 2>&1 | grep -v -i "warning" || true; \
	  $(PY) -c "import saprot_scan, saprot_scan_pymol" || { echo "the demo install failed; run make venv"; exit 1; }; fi
	touch $@

demo-inputs:
	@test -f $(EXAMPLE) || { echo "example structure $(EXAMPLE) not found"; exit 2; }
	@command -v python3 >/dev/null || { echo "python3 not found on PATH"; exit 2; }
	@mkdir -p $(DEMO_OUT) && test -w $(DEMO_OUT) || { echo "cannot write the output folder $(DEMO_OUT)"; exit 2; }

demo: demo-inputs
	@$(MAKE) --no-print-directory pymol-sysdeps demo-run

demo-run: $(DEMO_STAMP)
	$(VENV)/bin/saprot-scan scan $(EXAMPLE) --csv $(DEMO_OUT)/scores.csv --summary-csv $(DEMO_OUT)/per-residue.csv \
	  --json $(DEMO_OUT)/scores.json --heatmap $(DEMO_OUT)/heatmap.png
	$(PY) -m saprot_scan_pymol.render $(EXAMPLE) $(DEMO_OUT)/scores.json $(DEMO_OUT)/structure.png
	@echo; echo "demo outputs:"; ls -1 $(abspath $(DEMO_OUT))/* 

clean:
	rm -rf $(DEMO_OUT) build dist

-include plugin_pymol/plugin.mk bundle_chimerax/bundle.mk models/models.mk bench/bench.mk
