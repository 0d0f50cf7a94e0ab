# Version: 0.1.0
# Author: saprot-scan contributors
# Citation-Required: No
'''
saprot-scan for PyMOL: score every amino-acid substitution of a protein with SaProt and colour
residues by how well they tolerate mutation.

Right-click a protein (object, selection, residue or chain) and pick "score mutations", use the
commands saprot_scan, saprot_color, saprot_heatmap, saprot_csv, saprot_mutations, saprot_restore,
saprot_cancel, or open Plugin > saprot-scan. The scoring itself lives in the saprot_scan package (the
core), which must be installed in PyMOL's Python: the plugin offers to install it from the wheel its zip
carries, or type saprot_install_core.
'''

__version__ = "0.1.0"


def __init_plugin__(app=None):
    """PyMOL's plugin entry point: register commands, right-click entries and the dialog."""
    from .plugin import install

    install()
