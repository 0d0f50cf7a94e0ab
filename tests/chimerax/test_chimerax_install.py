"""Installing saprot-scan into ChimeraX as its users do: the two wheels `make bundle` builds (without
ChimeraX), installed with ChimeraX's own `pip install` and `toolshed install` commands into a ChimeraX
Python that has neither saprot package, then used at once and after a restart. And the bundle wheel's ChimeraX
metadata is what ChimeraX's own bundle builder (`devel build`) writes from pyproject.toml."""
from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("chimerax.core", reason="ChimeraX is not in this interpreter; run make test-chimerax")

from chimerax_harness.bundle_classifiers import CLASSIFIERS_FILE, built_classifiers, wheel_classifiers  # noqa: E402
from chimerax_harness.driver import run_chimerax  # noqa: E402
from chimerax_harness.fixtures import REPO, structures, test_data  # noqa: E402,F401 (pytest fixtures)
from chimerax_harness.fresh_python import python_without_saprot  # noqa: E402

sys.path.insert(0, str(REPO / "bundle_chimerax"))
import build_wheels  # noqa: E402


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> dict[str, Path]:
    """`make bundle`'s script, run offline with this Python's setuptools (no ChimeraX is involved)."""
    return build_wheels.build(tmp_path_factory.mktemp("dist"), isolated=False)


def test_make_bundle_builds_both_wheels_and_prints_full_commands(wheels, capsys, tmp_path):
    assert wheels["core"].name == "saprot_scan-0.1.0-py3-none-any.whl"
    assert wheels["bundle"].name == "chimerax_saprot-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheels["bundle"]) as archive:
        names = archive.namelist()
    assert "chimerax/saprot/__init__.py" in names and "chimerax/saprot/docs/user/commands/saprot.html" in names
    assert not any(n.startswith("chimerax/__init__") for n in names), "a bundle must not ship chimerax/__init__.py"
    assert wheel_classifiers(wheels["bundle"]) == CLASSIFIERS_FILE.read_text().splitlines()

    assert build_wheels.main([str(tmp_path / "dist"), "--no-build-isolation"]) == 0
    printed = capsys.readouterr().out
    core = tmp_path / "dist" / "saprot_scan-0.1.0-py3-none-any.whl"
    bundle = tmp_path / "dist" / "chimerax_saprot-0.1.0-py3-none-any.whl"
    assert f'pip install "saprot-scan @ {core.resolve().as_uri()}"' in printed
    assert f"toolshed install {bundle.resolve()}" in printed
    assert "*" not in printed, "full file names, not globs"


def test_bundle_classifiers_are_what_chimerax_bundle_builder_writes(tmp_path):
    """ChimeraX's `devel build` on a copy of the bundle: the classifiers it puts into its wheel (from the
    [chimerax] table) must be the ones the setuptools build takes from chimerax-classifiers.txt."""
    built = built_classifiers(tmp_path)
    assert built == CLASSIFIERS_FILE.read_text().splitlines(), (
        "bundle_chimerax/chimerax-classifiers.txt is out of date with pyproject.toml's [chimerax] table: "
        "run `make bundle-classifiers`")


INSTALL = """
    from chimerax.core.commands import run
    import site
    run(session, 'pip install "saprot-scan @ ' + params["core_uri"] + '"')
    run(session, "toolshed install " + params["bundle"])
    out["user_site"] = site.USER_SITE
    import saprot_scan
    out["core_file"] = saprot_scan.__file__
    from chimerax.atomic import all_atomic_structures
    run(session, "open " + params["1aki"])
    run(session, "saprot scan #1")  # in the same session, before any restart
    (structure,) = all_atomic_structures(session)
    out["scores"] = [getattr(r, "saprot_score", None) for r in structure.residues if r.polymer_type]
    out["log"] = log.text()
"""

USE_AFTER_RESTART = """
    from chimerax.core.commands import run
    import chimerax.saprot, saprot_scan
    from chimerax.atomic import all_atomic_structures
    run(session, "open " + params["1aki"])
    run(session, "saprot scan #1")
    (structure,) = all_atomic_structures(session)
    out["scores"] = [getattr(r, "saprot_score", None) for r in structure.residues if r.polymer_type]
    out["bundle_file"] = chimerax.saprot.__file__
    out["core_file"] = saprot_scan.__file__
    out["log"] = log.text()
"""


def test_pip_and_toolshed_install_into_a_chimerax_without_saprot(wheels, structures, tmp_path):  # noqa: F811
    python = python_without_saprot(tmp_path / "python")
    home = tmp_path / "chimerax-home"
    params = {"core_uri": wheels["core"].as_uri(), "bundle": str(wheels["bundle"]),
              "chimerax_home": str(home), **structures}
    env = {"PYTHONPATH": None, "PIP_NO_INDEX": "1", "SAPROT_SCAN_CACHE": str(tmp_path / "cache"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "SAPROT_SCAN_MODEL": None}
    installed = run_chimerax(INSTALL, tmp_path / "install", params=params, env=env, python=str(python))
    user_site = Path(installed["user_site"])
    assert user_site.is_relative_to(home), installed["user_site"]
    assert Path(installed["core_file"]).is_relative_to(user_site), installed["core_file"]
    assert (user_site / "chimerax" / "saprot" / "__init__.py").is_file(), installed["log"][-3000:]
    assert "Traceback" not in installed["log"]
    assert len(installed["scores"]) == 129 and all(isinstance(s, float) for s in installed["scores"])

    used = run_chimerax(USE_AFTER_RESTART, tmp_path / "restart", params=params, env=env, python=str(python))
    assert Path(used["bundle_file"]).is_relative_to(user_site)
    assert Path(used["core_file"]).is_relative_to(user_site)
    scores = used["scores"]
    assert len(scores) == 129 and all(isinstance(s, float) for s in scores), used["log"][-3000:]
    assert "structure-blend" in used["log"]
