"""The learned structure scorer: gradient-boosted trees, trained on deep mutational scans, over structure features.

burial-blosum adds four hand-weighted terms; this scorer lets measured fitness decide how burial at several
radii, contact chemistry, secondary structure, 3Di letters, pLDDT and the amino-acid change combine
(features: ``backends.learned_features``). The trees ship as plain JSON (``models/learned/``), verified by
SHA-256 against ``models/learned/model.json`` and evaluated here with numpy: no pickle, no scikit-learn at
run time. Training recipe and leave-assay-out results: ``models/training/learned.py``, models/README.md.

Output: the trees predict a substitution's within-assay fitness rank; the scorer reports the prediction as
per-chain z-scores over the substitutions (wild type 0, higher = more tolerated), the units of burial-blosum
and of ensembles, so ``--model learned-structure+saprot-650m`` averages like quantities.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from saprot_scan.backends.ensemble import standardise
from saprot_scan.backends.structure import StructureScorer
from saprot_scan.errors import ModelError

LEARNED_SCORER_NAME = "learned-structure"
MODEL_FOLDER = Path(__file__).resolve().parents[1] / "_models" / "learned"
MANIFEST = "model.json"
TREES_FORMAT = "saprot-scan gradient-boosted trees 1"
SCORE_LABEL = "learned structure score (z units; trees trained on deep mutational scans)"


@dataclass(frozen=True)
class TreeEnsemble:
    """Regression trees, evaluated the QuickScorer way (Lucchese et al. 2015) so numpy does it in bulk.

    Leaves are numbered left to right; every split node carries a bit mask that clears the leaves of its
    left subtree. A row's leaf in a tree is the leftmost leaf that survives the masks of all the tree's nodes
    whose test it fails (x > threshold, or a missing x the node sends right): no walk from node to node,
    only one comparison per (row, split node), an AND per tree and a lowest-bit lookup.
    """

    feature: np.ndarray  # int (T, K): each tree's split nodes, padded with never-failing tests
    threshold: np.ndarray  # float (T, K); +inf on padding
    missing_right: np.ndarray  # bool (T, K): a NaN fails the test (goes right)
    mask: np.ndarray  # unsigned (T, K): the leaves that survive when the test fails
    leaf_value: np.ndarray  # float (T, leaves), leaves left to right
    baseline: float

    @classmethod
    def from_json(cls, data: dict) -> "TreeEnsemble":
        packed = [_tree_masks(tree) for tree in data["trees"]]
        splits = max(1, max(len(p[0]) for p in packed))
        leaves = max(len(p[4]) for p in packed)
        if leaves > 64:
            raise ModelError(f"a tree with {leaves} leaves is more than this evaluator handles (64)")
        dtype = np.uint16 if leaves <= 16 else np.uint32 if leaves <= 32 else np.uint64
        every = np.iinfo(dtype).max
        shape = (len(packed), splits)
        feature, threshold = np.zeros(shape, dtype=np.int64), np.full(shape, np.inf)
        missing_right, mask = np.zeros(shape, dtype=bool), np.full(shape, every, dtype=dtype)
        leaf_value = np.zeros((len(packed), leaves))
        for k, (feat, thr, right, bits, values) in enumerate(packed):
            n = len(feat)
            feature[k, :n], threshold[k, :n], missing_right[k, :n] = feat, thr, right
            mask[k, :n] = np.array([every & ~b for b in bits], dtype=np.uint64).astype(dtype)
            leaf_value[k, :len(values)] = values
        return cls(feature, threshold, missing_right, mask, leaf_value, float(data["baseline"]))

    def predict(self, rows: np.ndarray, chunk: int = 1024) -> np.ndarray:
        """Sum of the leaves each row reaches, plus the baseline; rows in chunks so memory stays flat in L."""
        rows = np.asarray(rows, dtype=float)
        parts = [self._leaves_sum(rows[start:start + chunk]) for start in range(0, len(rows), chunk)]
        return np.concatenate(parts) if parts else np.zeros(0)

    def _leaves_sum(self, rows: np.ndarray) -> np.ndarray:
        """Split nodes as rows and data rows as columns: each feature row is copied whole, tests run in bulk."""
        trees, splits = self.feature.shape
        columns = np.ascontiguousarray(rows.T)
        x = columns[self.feature.T.ravel()].reshape(splits, trees, len(rows))
        failed = x > self.threshold.T[:, :, None]
        if np.isnan(x).any():
            failed |= np.isnan(x) & self.missing_right.T[:, :, None]
        every = np.iinfo(self.mask.dtype).max
        alive = np.full((trees, len(rows)), every, dtype=self.mask.dtype)
        for k in range(splits):
            alive &= np.where(failed[k], self.mask[:, k, None], every)
        alive = alive.astype(np.uint64)
        leaf = np.log2((alive & (~alive + np.uint64(1))).astype(float)).astype(np.int64)
        return self.baseline + self.leaf_value[np.arange(trees)[:, None], leaf].sum(axis=0)


def _tree_masks(tree: dict) -> tuple[list[int], list[float], list[bool], list[int], list[float]]:
    """One tree's split nodes (feature, threshold, NaN goes right, bits of its left subtree's leaves) and
    its leaf values, leaves numbered left to right."""
    left, right, is_leaf = tree["left"], tree["right"], tree["leaf"]
    order: list[int] = []  # leaves, left to right
    below: dict[int, list[int]] = {}  # node -> leaf ranks under it

    def visit(node: int) -> list[int]:
        if is_leaf[node]:
            order.append(node)
            return [len(order) - 1]
        under_left = visit(left[node])
        below[node] = under_left
        return under_left + visit(right[node])

    visit(0)
    splits = sorted(below)
    return ([tree["feature"][n] for n in splits], [tree["threshold"][n] for n in splits],
            [not tree["missing_left"][n] for n in splits], [sum(1 << r for r in below[n]) for n in splits],
            [tree["value"][n] for n in order])


@lru_cache(maxsize=4)
def load_trees(folder: str) -> tuple[TreeEnsemble, dict]:
    """The shipped trees and their manifest, after checking the file's SHA-256 against the manifest."""
    from saprot_scan.backends.learned_features import FEATURE_NAMES
    from saprot_scan.models.hashing import sha256_file

    base = Path(folder)
    try:
        manifest = json.loads((base / MANIFEST).read_text())
        path = base / manifest["file"]
        digest = sha256_file(path)
    except (OSError, ValueError, KeyError) as err:
        raise ModelError(f"the learned structure scorer's files are missing or unreadable in {base}: {err}") from err
    if digest != manifest["sha256"]:
        raise ModelError(f"{path} has SHA-256 {digest}, expected {manifest['sha256']}: reinstall saprot-scan")
    data = json.loads(path.read_text())
    if data.get("format") != TREES_FORMAT or tuple(data.get("features", ())) != FEATURE_NAMES:
        raise ModelError(f"{path} was made for other features or another format: retrain with "
                         "'make train-structure' or reinstall saprot-scan")
    return TreeEnsemble.from_json(data), manifest


def learned_scores(ensemble: TreeEnsemble, sequence: str, coords: np.ndarray, plddt: np.ndarray | None = None,
                   struct: str | None = None) -> np.ndarray:
    """(L, 20) per-chain z-scores of the predicted tolerance; wild type 0, unknown residues (X) NaN."""
    from saprot_scan.backends.learned_features import substitution_features
    from saprot_scan.encoding.tokens import AMINO_ACIDS

    length = len(sequence)
    if length == 0:
        return np.zeros((0, 20))
    features = substitution_features(sequence, coords, plddt, struct)
    predicted = ensemble.predict(features.reshape(length * 20, -1)).reshape(length, 20)
    known = np.array([a in AMINO_ACIDS for a in sequence])
    scores = standardise(np.where(known[:, None], predicted, np.nan), sequence)
    return np.where(known[:, None], scores, np.nan)


@dataclass
class LearnedStructureScorer(StructureScorer):
    """A ``Scorer`` (backends.base) like burial-blosum (same inputs, units and caching rule), scored by trees."""

    folder: str = str(MODEL_FOLDER)
    name: str = LEARNED_SCORER_NAME
    score_label: str = SCORE_LABEL
    _manifest: dict = field(default_factory=dict, repr=False)

    @property
    def sha256(self) -> str:
        return self._manifest.get("sha256") or load_trees(self.folder)[1]["sha256"]

    def describe(self) -> str:
        why = f" ({self.origin})" if self.origin else ""
        return (f"learned structure scorer {self.name}{why}: gradient-boosted trees over burial, contacts, 3Di and "
                "the amino-acid change, trained on deep mutational scans; not SaProt; 'saprot-scan models fetch "
                "saprot-35m' (or saprot-650m) gives SaProt itself")

    def check(self) -> None:
        """Load and verify the trees now, so a damaged install fails with one line before any progress."""
        self._manifest = load_trees(self.folder)[1]

    def scan(self, chain, tokens, method: str = "masked", batch_size: int | None = None,
             progress: Callable[[int, int], None] | None = None, cancel=None) -> np.ndarray:
        """(L, 20) scores; ``method`` does not change them (there is no language model to mask)."""
        plddt = None
        if getattr(tokens, "plddt_masked", False):
            from saprot_scan.encoding.plddt import plddt_values

            plddt = plddt_values(chain)
        struct = getattr(tokens, "struct", None)
        scores = learned_scores(load_trees(self.folder)[0], chain.sequence, chain.coords, plddt, struct)
        if progress is not None:
            progress(len(chain), len(chain))
        return scores


def load_learned_scorer(spec: str | None = None, device: str = "auto", precision: str | None = "auto"
                        ) -> LearnedStructureScorer:
    """``load_scorer``'s loader for the learned kind (device and precision do not apply)."""
    scorer = LearnedStructureScorer(origin="named" if spec else "")
    scorer.check()
    return scorer
