"""ChimeraX bundle for saprot-scan: ``saprot scan|color|mutations|heatmap|models``.

A thin layer over the core package ``saprot_scan``: it turns ChimeraX residues into the core's
``Chain``, runs the scan (off the UI thread when there is a GUI) and writes the per-residue
summary back as the residue attribute ``saprot_score``, ribbon colours and a colour key.
"""
from chimerax.core.toolshed import BundleAPI

__version__ = "0.1.0"


class _SaprotBundleAPI(BundleAPI):
    api_version = 1

    @staticmethod
    def register_command(bundle_info, command_info, logger):
        from . import commands
        commands.register(command_info.name, logger)

    @staticmethod
    def get_class(class_name):
        """Classes saved in session files (the session restores them by name)."""
        if class_name == "SaprotScans":
            from .store import SaprotScans
            return SaprotScans
        return None


bundle_api = _SaprotBundleAPI()
