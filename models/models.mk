# Embedded default model (issue 5). Manual target: CI never runs it; its run time is in models/README.md.
# One CPU thread, as for the shipped run (so the same weights come out); a CUDA GPU is used when torch sees one.
# Rewrites models/default/: saprot-scan-default.onnx, model.json, checkpoint/.
.PHONY: train-default
train-default: venv
	PYTHONPATH=. $(PY) -m models.training.build_default --out models/default --threads 1

# Export the committed checkpoint again (after an exporter change; no training) and refresh model.json.
.PHONY: reexport-default
reexport-default: venv
	PYTHONPATH=. $(PY) -m models.training.build_default --out models/default --reexport

# Learned structure scorer (issue 20): leave-assay-out table on the 26 dev assays shipped in
# models/training/data/dms_dev.tar.xz, then the shipped fit on all 26; rewrites models/learned/
# (trees JSON, model.json with SHA-256 and the table, leave-assay-out.md). Seeded: the same bytes each run.
# About 15 min on a shared 2-core CPU (one thread).
.PHONY: train-structure
train-structure: venv
	PYTHONPATH=.:core OMP_NUM_THREADS=1 $(PY) -m models.training.learned --out models/learned
