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
