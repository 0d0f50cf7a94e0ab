"""The design view's shared rules (saprot_scan.viewers): the colour value and the model note both viewers log."""
import math

import numpy as np

from saprot_scan import DEFAULT_MODEL_NOTE, embedded_model
from saprot_scan.viewers import NATIVE_ATTR, design_note, native_fit


def test_native_fit_is_log_twenty_p_with_nan_kept():
    got = native_fit([0.05, 1.0, 0.0025, float("nan")])
    assert got[0] == 0.0 and math.isclose(got[1], math.log(20)) and got[2] < 0 and np.isnan(got[3])
    assert NATIVE_ATTR == "saprot_native"


def test_design_note_says_saprot_designs_far_better():
    class Other:
        sha256 = "0" * 64

    assert "far better designs than the embedded default" in design_note(Other())
    default = embedded_model()
    if default is not None:
        class Embedded:
            sha256 = default.sha256

        assert design_note(Embedded()) == f"note: {DEFAULT_MODEL_NOTE}"
