"""Helpers shared by every test suite (core, CLI, PyMOL, ChimeraX); standard library only, so the
ChimeraX environment (no torch, run with ``--noconftest``) can import them too."""
