"""Beyond zero-shot scores: fitting to the user's assay data, suggesting mutations, inverse folding.

``labels`` reads the user's ``mutant,score`` tables; ``fitting`` is the augmented ridge (one-hot site x aa
plus the zero-shot score) saved as plain JSON and applied to a ``ScanResult``; ``suggest`` picks single
substitutions under filters and separated combinations; ``inverse_folding`` is SaProt's reading with every
amino acid hidden. scikit-learn (the ``fit`` extra) is imported only when a model is fitted.
"""
