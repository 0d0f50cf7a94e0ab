"""The user's conventions for residues and variants: ``notation`` (how variants and selections are written, as
text), ``reference`` (a reference sequence and a chain's alignment to it), ``numbering`` (which residue a typed
number means: author, index or reference numbering)."""
