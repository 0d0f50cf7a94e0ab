# saprot-scan: every target installs what it needs itself (see README.md).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
SHARED ?= ../shared
EXAMPLE ?= $(SHARED)/data/foldseek_3di/1aki.cif
DEMO_OUT ?= demo-out

.PHONY: all venv test test-core demo clean help
all: help

help:
	@echo "make demo    - install, score the example structure, write heatmap + CSV + rendered image"
	@echo "make test    - install everything and run the test suites (core, CLI, PyMOL, ChimeraX)"
	@echo "make bench   - benchmarks -> BENCHMARKS.md"
	@echo "make plugin  - PyMOL Plugin-Manager zip;  make bundle - ChimeraX wheel"

venv: $(STAMP)
$(STAMP): core/pyproject.toml $(wildcard plugin_pymol/requirements-test.txt)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e 'core[export,test]' pymol-open-source $(if $(wildcard plugin_pymol/requirements-test.txt),-r plugin_pymol/requirements-test.txt)
	touch $(STAMP)

test-core: venv pymol-sysdeps
	$(PY) -m pytest tests -q -rs -p no:cacheprovider --ignore-glob='tests/test_chimerax*'

test: test-core
	$(MAKE) test-chimerax

demo: venv pymol-sysdeps
	@test -f $(EXAMPLE) || { echo "example structure $(EXAMPLE) not found (it ships in ../shared/data)"; exit 2; }
	@mkdir -p $(DEMO_OUT)
	$(VENV)/bin/saprot-scan scan $(EXAMPLE) --csv $(DEMO_OUT)/scores.csv --summary-csv $(DEMO_OUT)/per-residue.csv \
	  --json $(DEMO_OUT)/scores.json --heatmap $(DEMO_OUT)/heatmap.png
	$(PY) -m saprot_scan_pymol.render $(EXAMPLE) $(DEMO_OUT)/scores.json $(DEMO_OUT)/structure.png
	@echo; echo "demo outputs:"; ls -1 $(abspath $(DEMO_OUT))/* 

clean:
	rm -rf $(DEMO_OUT) build dist

-include plugin_pymol/plugin.mk bundle_chimerax/bundle.mk models/models.mk bench/bench.mk
