# Embedded default model (issue 5). Manual target: CI never runs it (about 25 min on 2 CPU cores;
# a CUDA GPU is used when torch sees one). Writes models/default/{saprot-scan-default.onnx,model.json,checkpoint/}.
.PHONY: train-default
train-default: venv
	PYTHONPATH=. $(PY) -m models.training.build_default --out models/default --threads 2
