"""SaProt's scoring maths on token ids and a ``LogitsModel``: ``marginals`` (masked and wild-type marginal,
windows for long chains, the one masked-batch builder), ``variants`` (listed multi-mutants), ``agreement``
(how closely two score sets rank alike). numpy only."""
