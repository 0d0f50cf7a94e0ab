"""The build-time side of models: ``registry`` (names, the cache, the embedded default, the model list),
``hashing``, ``hub`` (fetch), ``architectures`` (SaProt configs, random test checkpoints), ``export`` (to ONNX),
``fuse`` (fused attention), ``quantize`` (checked int8 copies). torch/transformers/onnx only where needed."""
