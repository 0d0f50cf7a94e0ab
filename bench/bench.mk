# Benchmarks (issues 2 and 6): saprot-scan against SaProt's own loop and the hardware's matmul peak.
# `make bench` writes BENCHMARKS.md (CPU rows; CUDA rows too where onnxruntime-gpu and a GPU are present).
# `make bench-quick`: the 35M / 300-residue CPU check only, printed, BENCHMARKS.md untouched.
# `make install-gpu`: swap the CPU onnxruntime for onnxruntime-gpu in .venv (they share one module name,
# so never keep both: uninstall both, then install the GPU one).
.PHONY: bench bench-quick bench-cpu bench-gpu install-gpu
BENCH_THREADS ?= 2
HAS_CUDA_ORT = $(PY) -c "import sys, onnxruntime as o; sys.exit('CUDAExecutionProvider' not in o.get_available_providers())"

bench: bench-cpu
	@if $(HAS_CUDA_ORT) 2>/dev/null; then $(MAKE) --no-print-directory bench-gpu; \
	else echo "onnxruntime has no CUDA here: GPU rows not measured (make install-gpu on a GPU machine)"; fi

bench-cpu: venv
	$(PY) bench/run.py --device cpu --threads $(BENCH_THREADS) --ablation

bench-gpu: venv
	$(PY) bench/run.py --device cuda --threads $(BENCH_THREADS)

bench-quick: venv
	$(PY) bench/run.py --device cpu --archs saprot-35m --lengths 300 --threads $(BENCH_THREADS) --no-markdown

install-gpu: venv
	$(PIP) uninstall -y -q onnxruntime onnxruntime-gpu
	$(PIP) install -q 'onnxruntime-gpu>=1.20'
	$(PY) -c "import onnxruntime as o; print('onnxruntime', o.__version__, o.get_available_providers())"

# Issue 12: zero-shot Spearman on the dev deep mutational scans (../shared/data/dms_dev), through the
# product's own scan path, beside BLOSUM62 and the published anchors; rewrites its block in BENCHMARKS.md.
DMS_MODELS ?= structure-blend burial-blosum learned-structure learned-structure+burial-blosum saprot-scan-default burial-blosum+saprot-scan-default burial-blosum*0.8+saprot-scan-default*0.2
.PHONY: bench-dms
bench-dms: venv
	$(PY) bench/dms.py --split dev $(foreach m,$(DMS_MODELS),--model '$(m)') --write

# Issue 20: the structure scorers' leave-assay-out summary (from make train-structure's record) into BENCHMARKS.md.
.PHONY: bench-leave-assay-out
bench-leave-assay-out:
	$(PY) bench/leave_assay_out.py --write

# Issue 19: how long a fit takes (closed-form leave-one-out ridge) against the previous RidgeCV loop, same labels.
FIT_SPEED_ASSAY ?= RL401_YEAST_Roscoe_2014
.PHONY: bench-fit-speed
bench-fit-speed: venv
	$(PY) bench/fit_speed.py --assay $(FIT_SPEED_ASSAY) --write

# Issue 14: few-shot fitting on ../shared/data/dms_dev (zero-shot vs one-hot ridge vs augmented); resumable,
# cached per zero-shot model under bench/_work/fit_dms. FIT_MODEL= picks the zero-shot model (default: the product's).
FIT_MODEL ?=
.PHONY: bench-fit
bench-fit: venv
	$(PY) bench/fit_dms.py $(if $(FIT_MODEL),--model '$(FIT_MODEL)') --markdown BENCHMARKS.md

# Issue 21: time and peak memory of 3Di encoding and the structure scorer at 1k/10k/35k residues (synthetic
# chains of lysozyme copies) against the dense code they replaced; rewrites its block in BENCHMARKS.md.
.PHONY: bench-long-chains
bench-long-chains: venv
	$(PY) bench/long_chains.py

# Issue 18: the weight download of models fetch against huggingface_hub's hf_hub_download, over loopback from
# the tests' hub stand-in: what a connection broken half-way costs on the rerun; rewrites its block in BENCHMARKS.md.
.PHONY: bench-hub
bench-hub: venv
	$(PY) bench/hub_download.py --size-mb 256 --markdown
