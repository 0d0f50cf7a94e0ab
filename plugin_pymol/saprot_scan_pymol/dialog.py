"""Plugin > saprot-scan: one window for model, method, device, colouring and output files.

Built with PyMOL's own Qt shim (pymol.Qt), so it works with whichever Qt binding PyMOL uses. The
dialog never scores on the GUI thread: it calls the same commands as the command line, which run
in the background under PyMOL's GUI; a timer reads their progress.
"""
from __future__ import annotations

import threading

import pymol
from pymol import cmd

from . import feedback, settings
from .arguments import user_command
from .core_install import pymol_python, terminal_command
from .core_link import PluginError, core, user_errors
from .jobs import RUNNER
from .palettes import PALETTES
from .scanning import DEVICES, METHODS
from .store import AMINO_ACIDS, STORE

AUTOMATIC = "(automatic)"
SUMMARIES = ["mean", "min", "max", *AMINO_ACIDS]

_DIALOG = None


def open_dialog():
    """Show the window (one per PyMOL), creating it on first use."""
    global _DIALOG
    try:
        from pymol.Qt import QtWidgets
    except ImportError:  # PyPI's pymol-open-source ships no Qt binding
        raise PluginError(f"the dialog needs Qt, which PyMOL's Python lacks; install PyQt5 into it "
                          f"({terminal_command(pymol_python(), 'PyQt5')}) and restart "
                          "PyMOL, or use the saprot_scan command") from None
    if QtWidgets.QApplication.instance() is None:
        raise pymol.CmdException("saprot_scan: the dialog needs PyMOL's Qt GUI; use the saprot_scan command")
    if _DIALOG is None:
        parent = None
        try:
            parent = pymol.gui.get_qtwindow()
        except Exception:
            pass
        _DIALOG = build_dialog(parent)
    _DIALOG.show()
    _DIALOG.raise_()
    return _DIALOG


def model_choices() -> list[tuple[str, str]]:
    """(label, spec) pairs: automatic choice, embedded default, registry models with cache status (the core's list)."""
    try:
        from saprot_scan.viewers import model_choices as core_choices

        return [(AUTOMATIC if not spec else label, spec) for label, spec in core_choices()]
    except Exception:
        return [(AUTOMATIC, ""), ("default (embedded, not SaProt)", "default")]


class _Background:
    """A helper thread for model fetch/export whose result the GUI timer picks up.

    ``work(report)`` hands each stage line (download, export, copies, checks) to ``report``: it goes to PyMOL's
    log at once and the timer shows the latest on the status line."""

    def __init__(self, label, work):
        self.label, self.result, self.error, self.done = label, None, None, False
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def report(self, text: str) -> None:
        """One stage line, from the job's thread."""
        feedback.say(text)
        self.lines.append(text)

    def _run(self, work):
        try:
            self.result = work(self.report)
        except Exception as err:  # reported in the dialog and PyMOL's feedback
            self.error = err
        self.done = True


def build_dialog(parent=None):
    """Create the dialog (a QDialog subclass defined here so Qt is imported only when needed)."""
    from pymol.Qt import QtCore, QtWidgets

    class SaprotScanDialog(QtWidgets.QDialog):
        def __init__(self, parent=None):
            super().__init__(parent)
            self.setWindowTitle("saprot-scan: mutation scores")
            self.setObjectName("saprot_scan_dialog")
            self.values = settings.load()
            self._outputs_pending = False
            self._helper: _Background | None = None
            # (summary, palette) of the scene when last looked at: the boxes open with the remembered choices
            # and follow the scene only when it changes afterwards (saprot_color min typed meanwhile)
            self._painted: tuple[str, str] | None = (STORE.summary, STORE.palette) if STORE.painted else None
            self._done_text = "scored and coloured"  # the status when the running scan or design ends
            self._build()
            self._apply(self.values)
            self.timer = QtCore.QTimer(self)
            self.timer.setInterval(250)
            self.timer.timeout.connect(self.poll)
            self.timer.start()

        # --- layout -------------------------------------------------------------------------
        def _build(self):
            form = QtWidgets.QFormLayout()
            self.selection = QtWidgets.QLineEdit()
            self.selection.setToolTip("atoms whose protein chains are scored, e.g. 1abc or chain A")
            form.addRow("Selection", self.selection)

            self.model = QtWidgets.QComboBox()
            self.model.setEditable(True)
            self.model.setToolTip("a registry name, 'default' (embedded), or a path to an .onnx file")
            for label, spec in model_choices():
                self.model.addItem(label, spec)
            row = QtWidgets.QHBoxLayout()
            row.addWidget(self.model, 1)
            self.browse_model = QtWidgets.QPushButton("File...")
            self.fetch_model = QtWidgets.QPushButton("Fetch")
            self.export_model = QtWidgets.QPushButton("Export...")
            self.fetch_model.setToolTip("download the chosen SaProt model from the Hugging Face hub "
                                        "and convert it to ONNX")
            self.export_model.setToolTip("convert a local SaProt checkpoint folder to ONNX")
            for button in (self.browse_model, self.fetch_model, self.export_model):
                row.addWidget(button)
            form.addRow("Model", row)

            self.method = self._choice(form, "Method", METHODS,
                                       "masked: SaProt's masked marginals (one pass per residue); wt: one pass, faster")
            self.device = self._choice(form, "Device", DEVICES)
            self.summary = self._choice(form, "Colour by", SUMMARIES,
                                        "per-residue number: mean/min/max over the 19 substitutions, "
                                        "or the score of one target amino acid")
            self.palette = self._choice(form, "Palette", PALETTES)
            self.bfactor = QtWidgets.QCheckBox("also write the score into b-factors")
            form.addRow("", self.bfactor)

            self.fitted = QtWidgets.QLineEdit()
            self.fitted.setToolTip("optional: a model saved by 'saprot-scan fit --save'; Score then colours one "
                                   "chain by its fitted scores (saprot_scan fitted=)")
            form.addRow("Fitted model", self._with_browse(self.fitted, "Fitted models (*.json)", save=False))
            self.partners = QtWidgets.QCheckBox("structure scorers count the other chains (complexes)")
            self.partners.setToolTip("saprot_scan partners=on|off: a chain of a complex scored in its complex, "
                                     "or alone; SaProt always reads one chain")
            form.addRow("Partner chains", self.partners)
            self.known = QtWidgets.QLineEdit()
            self.known.setToolTip("optional: known-variant files (UniProt variation JSON, AlphaMissense CSV, "
                                  "a CSV mutant,label), separated by spaces; placed beside the scores after "
                                  "Score, with the agreement in the log (saprot_known)")
            form.addRow("Known variants", self._with_browse(self.known, "Known variants (*.json *.csv)",
                                                            save=False, add=True))
            self.csv = QtWidgets.QLineEdit()
            self.heatmap = QtWidgets.QLineEdit()
            form.addRow("CSV file", self._with_browse(self.csv, "CSV (*.csv)"))
            form.addRow("Heatmap", self._with_browse(self.heatmap, "Images (*.png *.svg *.pdf)"))

            self.progress = QtWidgets.QProgressBar()
            self.progress.setRange(0, 100)
            self.status = QtWidgets.QLabel("")
            self.status.setWordWrap(True)

            buttons = QtWidgets.QHBoxLayout()
            self.score_button = QtWidgets.QPushButton("Score")
            self.cancel_button = QtWidgets.QPushButton("Cancel scan")
            self.recolour_button = QtWidgets.QPushButton("Recolour")
            self.restore_button = QtWidgets.QPushButton("Restore")
            self.suggest_button = QtWidgets.QPushButton("Suggest")
            self.suggest_button.setToolTip("list and label the best single substitutions of the scored chains "
                                           "(saprot_suggest with its defaults)")
            self.design_button = QtWidgets.QPushButton("Design")
            self.design_button.setToolTip("colour the selection by how well each native amino acid fits the "
                                          "structure (saprot_design; needs a language model, not a structure scorer)")
            self.close_button = QtWidgets.QPushButton("Close")
            for button in (self.score_button, self.cancel_button, self.recolour_button, self.restore_button,
                           self.suggest_button, self.design_button, self.close_button):
                buttons.addWidget(button)
            self.score_button.setDefault(True)

            layout = QtWidgets.QVBoxLayout(self)
            layout.addLayout(form)
            layout.addWidget(self.progress)
            layout.addWidget(self.status)
            layout.addLayout(buttons)

            self.score_button.clicked.connect(self.on_score)
            self.cancel_button.clicked.connect(self.on_cancel)
            self.recolour_button.clicked.connect(self.on_recolour)
            self.restore_button.clicked.connect(self.on_restore)
            self.suggest_button.clicked.connect(self.on_suggest)
            self.design_button.clicked.connect(self.on_design)
            self.close_button.clicked.connect(self.close)
            self.browse_model.clicked.connect(self.on_browse_model)
            self.fetch_model.clicked.connect(self.on_fetch)
            self.export_model.clicked.connect(self.on_export)

        @staticmethod
        def _choice(form, label, items, tip=None):
            """A drop-down of ``items`` added to ``form`` under ``label``."""
            box = QtWidgets.QComboBox()
            box.addItems(list(items))
            if tip:
                box.setToolTip(tip)
            form.addRow(label, box)
            return box

        def _with_browse(self, edit, pattern, save=True, add=False):
            """``edit`` with a "..." button choosing a file (``add``: appended to the files already named)."""
            row = QtWidgets.QHBoxLayout()
            row.addWidget(edit, 1)
            button = QtWidgets.QPushButton("...")
            button.setMaximumWidth(32)

            def browse():
                ask = QtWidgets.QFileDialog.getSaveFileName if save else QtWidgets.QFileDialog.getOpenFileName
                name = ask(self, "Save as" if save else "Open", "" if add else edit.text(), pattern)
                name = name[0] if isinstance(name, tuple) else name
                if name:
                    edit.setText(f"{edit.text().strip()} {name}".strip() if add else name)

            button.clicked.connect(browse)
            row.addWidget(button)
            return row

        # --- settings -----------------------------------------------------------------------
        def _apply(self, values):
            self.selection.setText(values["selection"])
            self.set_model_spec(values["model"])
            for combo, key in ((self.method, "method"), (self.device, "device"),
                               (self.summary, "summary"), (self.palette, "palette")):
                index = combo.findText(values[key])
                combo.setCurrentIndex(max(index, 0))
            self.bfactor.setChecked(bool(values["bfactor"]))
            self.csv.setText(values["csv"])
            self.heatmap.setText(values["heatmap"])
            self.fitted.setText(values["fitted"])
            self.known.setText(values["known"])
            self.partners.setChecked(bool(values["partners"]))

        def set_model_spec(self, spec: str):
            index = self.model.findData(spec)
            if index >= 0:
                self.model.setCurrentIndex(index)
            else:
                self.model.setEditText(spec)

        def model_spec(self) -> str:
            text = self.model.currentText().strip()
            index = self.model.findText(text)
            if index >= 0:
                return self.model.itemData(index) or ""
            return "" if text == AUTOMATIC else text

        def current_values(self) -> dict:
            return {
                "selection": self.selection.text().strip() or "(all)",
                "model": self.model_spec(),
                "method": self.method.currentText(),
                "device": self.device.currentText(),
                "summary": self.summary.currentText(),
                "palette": self.palette.currentText(),
                "bfactor": self.bfactor.isChecked(),
                "csv": self.csv.text().strip(),
                "heatmap": self.heatmap.text().strip(),
                "fitted": self.fitted.text().strip(),
                "known": self.known.text().strip(),
                "partners": self.partners.isChecked(),
            }

        def remember(self):
            self.values = self.current_values()
            settings.save(self.values)
            try:  # the model choice is the core's saved preference: the default for the CLI and ChimeraX too
                from saprot_scan.viewers import save_model_choice

                save_model_choice(self.values["model"])
            except (ImportError, OSError):
                pass
            except user_errors() as err:  # not cached, a missing file: never the default of every later scan
                feedback.warn(f"{err}; the default model stays as it was")

        # --- actions ------------------------------------------------------------------------
        def _run_command(self, function, *args, **kwargs):
            try:
                return function(*args, **kwargs), True
            except pymol.CmdException as err:
                message = str(err).strip()
                self.status.setText(message)
                feedback.fail(message.removeprefix("saprot_scan: "))
                return None, False

        def on_score(self):
            from .scan_commands import saprot_scan

            self.remember()
            v = self.values
            self.status.setText("scoring ...")
            self.progress.setValue(0)
            self._done_text = "scored and coloured"
            self._outputs_pending = bool(v["csv"] or v["heatmap"] or v["known"])
            _, ok = self._run_command(saprot_scan, v["selection"], v["model"], v["method"], v["summary"],
                                      v["palette"], int(v["bfactor"]), v["device"], fitted=v["fitted"],
                                      partners="on" if v["partners"] else "off")
            if not ok:
                self._outputs_pending = False
            self.poll()

        def on_cancel(self):
            from .scan_commands import saprot_cancel

            self.status.setText("cancelling ..." if saprot_cancel() else "no scan is running")

        def on_recolour(self):
            from .scan_commands import saprot_color

            self.remember()
            v = self.values
            _, ok = self._run_command(saprot_color, v["summary"], v["palette"], int(v["bfactor"]))
            if ok:
                self.status.setText(f"recoloured by {v['summary']} ({v['palette']})")

        def on_restore(self):
            from .scan_commands import saprot_restore

            restored, ok = self._run_command(saprot_restore)
            if ok:
                self.status.setText("restored " + ", ".join(restored) if restored else "nothing to restore")

        def on_suggest(self):
            from .suggesting import saprot_suggest

            found, ok = self._run_command(saprot_suggest)
            if ok:
                self.status.setText(f"{len(found or [])} suggestions listed in the log and labelled "
                                    "(selection saprot_suggested)")

        def on_design(self):
            from .designing import saprot_design

            self.remember()
            v = self.values
            self.status.setText("designing ...")
            self.progress.setValue(0)
            self._done_text = "designed: coloured by log(20 P(native)); details in the log"
            self._run_command(saprot_design, v["selection"], v["model"], v["palette"], v["device"])
            self.poll()

        def on_browse_model(self):
            name = QtWidgets.QFileDialog.getOpenFileName(self, "ONNX model", "", "ONNX models (*.onnx)")
            name = name[0] if isinstance(name, tuple) else name
            if name:
                self.set_model_spec(name)

        def on_fetch(self):
            spec = self.model_spec()
            if not spec or spec == "default" or spec.endswith(".onnx"):
                self.status.setText("choose a registry model (saprot-35m, saprot-650m) to fetch")
                return
            if self._refused(lambda: core().need_fetch_extra("Fetch")):
                return
            from saprot_scan import fetch_model

            self._start_helper(f"fetching {spec}",
                               lambda report: fetch_model(spec, progress=False, report=report) and spec)

        def _refused(self, check) -> bool:
            """Run ``check``; when it fails for the user (no core, a missing extra), say why here and in the log."""
            try:
                check()
            except user_errors() as err:
                self.status.setText(str(err))
                feedback.fail(str(err))
                return True
            return False

        def on_export(self):
            folder = QtWidgets.QFileDialog.getExistingDirectory(self, "SaProt checkpoint folder")
            if not folder:
                return
            target = QtWidgets.QFileDialog.getSaveFileName(self, "Write ONNX model", "", "ONNX (*.onnx)")
            target = target[0] if isinstance(target, tuple) else target
            if not target:
                return
            self.export_to(folder, target)

        def export_to(self, hf_dir: str, target: str):
            """Export a checkpoint folder in the background; the model box then points at it."""
            if self._refused(lambda: core().need_fetch_extra("Export", ("onnx",))):
                return
            from saprot_scan import export_for_scans

            # the int8 copy beside the file on a machine without a CUDA GPU: scans of the file then use it
            self._start_helper(f"exporting {hf_dir}", lambda report: export_for_scans(hf_dir, target, report) and target)

        def _start_helper(self, label, work):
            if self._helper is not None and not self._helper.done:
                self.status.setText(f"still {self._helper.label}")
                return
            self.status.setText(label + " ...")
            feedback.say(label + " ...")
            self._helper = _Background(label, work)

        # --- progress -----------------------------------------------------------------------
        def poll(self):
            """Mirror the runner's progress; write output files once a scan has finished."""
            busy = RUNNER.busy()
            for button in (self.score_button, self.recolour_button, self.restore_button, self.suggest_button,
                           self.design_button):
                button.setEnabled(not busy)
            self._show_colouring_in_use()
            self.cancel_button.setEnabled(busy)
            if busy and RUNNER.progress is not None:
                self.progress.setValue(int(100 * RUNNER.progress.fraction))
                self.status.setText(RUNNER.progress.text)
            elif self._outputs_pending or RUNNER.last_outcome not in ("", "running"):
                self._scan_ended()
            helper = self._helper
            if helper is not None and not helper.done and helper.lines:
                self.status.setText(f"{helper.label}: {helper.lines[-1]}")
            if helper is not None and helper.done:
                self._helper = None
                if helper.error is not None:
                    self.status.setText(f"{helper.label} failed: {helper.error}")
                    feedback.fail(f"{helper.label} failed: {helper.error}")
                else:
                    spec = str(helper.result)
                    index = self.model.findData(spec)
                    if index >= 0:  # a registry model that is now cached
                        self.model.setItemText(index, f"{spec} (cached)")
                    else:
                        self.model.addItem(spec, spec)
                    self.set_model_spec(spec)
                    self.status.setText(f"{helper.label}: done; model set to {spec}")
                    feedback.say(f"{helper.label}: done ({spec})")

        def _show_colouring_in_use(self):
            """After a command recoloured (``saprot_color min``), show its summary and palette, once per change,
            so the boxes say what the structure shows without undoing a choice the user is making."""
            painted = (STORE.summary, STORE.palette) if STORE.painted else None
            if painted is None or painted == self._painted:
                return
            self._painted = painted
            for combo, value in zip((self.summary, self.palette), painted):
                index = combo.findText(value)
                if index >= 0:
                    combo.setCurrentIndex(index)

        def _scan_ended(self):
            outcome, RUNNER.last_outcome = RUNNER.last_outcome, ""
            pending, self._outputs_pending = self._outputs_pending, False
            if outcome == "done":
                self.progress.setValue(100)
                self.status.setText(self._done_text)
                if pending:
                    self._write_outputs()
            elif outcome:
                self.status.setText(outcome)

        def _write_outputs(self):
            from .export_commands import saprot_csv, saprot_heatmap
            from .known_commands import saprot_known

            if self.values["known"]:  # placed first, so the CSV and the heatmap carry them
                _, ok = self._run_command(saprot_known, self.values["known"])
                if ok:
                    self.status.setText("scored; known variants placed (agreement in the log)")
            written = []
            if self.values["csv"]:
                path, ok = self._run_command(saprot_csv, self.values["csv"])
                written += [path] if ok else []
            if self.values["heatmap"]:
                path, ok = self._run_command(saprot_heatmap, self.values["heatmap"])
                written += [path] if ok else []
            if written:
                self.status.setText("scored; wrote " + ", ".join(written))

        def closeEvent(self, event):
            self.remember()
            super().closeEvent(event)

    return SaprotScanDialog(parent)


@user_command
def saprot_dialog(*, _self=cmd):
    '''
DESCRIPTION

    "saprot_dialog" opens the saprot-scan window (needs PyMOL's Qt GUI; PyPI's
    pymol-open-source needs PyQt5 installed beside it).

USAGE

    saprot_dialog
    '''
    open_dialog()
