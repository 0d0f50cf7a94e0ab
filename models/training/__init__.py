"""Training recipe for saprot-scan's embedded default model (a compact SaProt-style EsmForMaskedLM).

Only `make train-default` needs this package; nothing here is imported at inference.
`data`, `masking` and `baselines` are numpy-only so tests can use them without torch.
"""
