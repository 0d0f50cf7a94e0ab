"""saprot-scan core: SaProt zero-shot mutation scores for a protein structure.

The pipeline runs one way: structure -> Chain -> 3Di -> SaProt tokens -> ONNX model -> scan -> results.
No viewer is imported here; PyMOL and ChimeraX front ends sit on top.
"""
__version__ = "0.1.0"
