"""From a structure to what SaProt reads: ``structure`` (Chain from files or viewer arrays), ``threedi``
(Foldseek's 3Di letters), ``tokens`` (the vocabulary), ``plddt`` (SaProt's pLDDT rule and a chain's tokens).
numpy (and biotite when reading files) only; no model code."""
