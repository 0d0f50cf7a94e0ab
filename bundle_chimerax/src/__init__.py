"""ChimeraX bundle for saprot-scan: ``saprot scan|load|color|mutations|heatmap|suggest|design|models``.

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
        """Each command from its own module (imported only when ChimeraX first needs the command)."""
        import importlib
        import importlib.util
        from chimerax.core.commands import register
        if importlib.util.find_spec("saprot_scan") is None:  # the core is installed from its wheel, never by name
            _register_core_missing(command_info.name, logger)
            return
        module_name, function, desc = _COMMANDS[command_info.name]
        module = importlib.import_module(f".{module_name}", __name__)
        register(command_info.name, getattr(module, desc), getattr(module, function), logger=logger)

    @staticmethod
    def get_class(class_name):
        """Classes saved in session files (the session restores them by name)."""
        if class_name == "SaprotScans":
            from .store import SaprotScans
            return SaprotScans
        return None


CORE_MISSING = ("the saprot_scan core is not installed in ChimeraX's Python. Install the core wheel built with "
                "the bundle first, with ChimeraX's pip: pip install \"saprot-scan @ file:///PATH/TO/"
                "saprot_scan-0.1.0-py3-none-any.whl\" (bundle_chimerax/README.md); it is never installed by name, "
                "since no package index publishes saprot-scan")


def _register_core_missing(name, logger) -> None:
    """Without the core, each saprot command is registered as one that says how to install the core."""
    from chimerax.core.commands import CmdDesc, RestOfLine, register
    from chimerax.core.errors import UserError

    def core_missing(session, text=None):
        raise UserError(CORE_MISSING)

    register(name, CmdDesc(optional=[("text", RestOfLine)], synopsis="needs the saprot_scan core"), core_missing,
             logger=logger)


#: command -> (module, function, CmdDesc) in this bundle; the commands are listed in pyproject.toml.
_COMMANDS = {
    "saprot scan": ("scan", "saprot_scan", "scan_desc"),
    "saprot load": ("load", "saprot_load", "load_desc"),
    "saprot color": ("color", "saprot_color", "color_desc"),
    "saprot mutations": ("mutations", "saprot_mutations", "mutations_desc"),
    "saprot heatmap": ("heatmap", "saprot_heatmap", "heatmap_desc"),
    "saprot models": ("models", "saprot_models", "models_desc"),
    "saprot models fetch": ("models", "saprot_models_fetch", "fetch_desc"),
    "saprot models export": ("models", "saprot_models_export", "export_desc"),
    "saprot models use": ("models", "saprot_models_use", "use_desc"),
    "saprot stop": ("stop", "saprot_stop", "stop_desc"),
    "saprot suggest": ("suggest", "saprot_suggest", "suggest_desc"),
    "saprot design": ("design", "saprot_design", "design_desc"),
    "saprot known": ("known", "saprot_known", "known_desc"),
}

bundle_api = _SaprotBundleAPI()
