"""Test harness that starts a real headless ChimeraX from the PyPI ``chimerax`` wheel.

``wheel_workarounds`` documents each gap of that wheel and how it is bridged; ``session`` starts a
session; ``builtin_bundles`` lists the built-in bundle metadata the wheel omits.  The saprot
bundle itself depends on none of this.
"""
