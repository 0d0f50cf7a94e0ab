"""``python bench/run.py``: time saprot-scan's scans against SaProt's own loop and the hardware's limit.

Writes bench/results/<date>-<device>.json and the generated block of BENCHMARKS.md (between the
``bench:begin``/``bench:end`` markers; the prose around it is kept). Random-weight models with SaProt's
35M and 650M architectures, real protein sequences with Foldseek 3Di from ../shared/data.

A measurement whose full run would exceed ``--budget`` seconds is taken on a sample of positions and
extrapolated to the whole chain; the table says so in its "how" column.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from machine import cpu_name  # noqa: E402
from report import replace_block  # noqa: E402
from saprot_loop import load_torch_model, masked_positions_loop, wt_pass  # noqa: E402

from saprot_scan import compare_scores  # noqa: E402
from saprot_scan import ARCHITECTURES  # noqa: E402
from saprot_scan import EveryRowModel  # noqa: E402
from saprot_scan import to_scores, wt_columns, aa_log_probs, masked_marginal, wt_marginal  # noqa: E402
from saprot_scan import AMINO_ACIDS, VOCAB_SIZE, combine, encode, token_id  # noqa: E402

SHARED = REPO.parent / "shared" / "data" / "swissprot500"


# ---------------------------------------------------------------- inputs

def _fasta(path: Path) -> dict[str, str]:
    records, key = {}, None
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            key = line[1:].split()[0]
            records[key] = ""
        elif key:
            records[key] += line.strip()
    return records


def test_chains(lengths: list[int]) -> dict[int, dict]:
    """Real Swiss-Prot sequences with their 3Di, one per requested length (a longer one cut to length)."""
    if (SHARED / "swissprot_subset_aa_500.fasta").is_file():
        aa_all = _fasta(SHARED / "swissprot_subset_aa_500.fasta")
        di_all = _fasta(SHARED / "swissprot_subset_ss_500.fasta")
        pool = sorted((len(s), k) for k, s in aa_all.items() if set(s) <= set(AMINO_ACIDS))
    else:
        pool = []
    chains = {}
    for n in lengths:
        fits = [p for p in pool if p[0] >= n]
        if fits:
            _, key = min(fits)
            aa, di, source = aa_all[key][:n], di_all[key][:n].lower(), f"{key} (first {n})"
        else:  # no shared data: a seeded random chain
            rng = np.random.default_rng(n)
            aa = "".join(rng.choice(list(AMINO_ACIDS), n))
            di = "".join(rng.choice(list("pynwrqhgdlvtmfsaeikc"), n))
            source = "random"
        chains[n] = {"ids": encode(combine(aa, di)), "struct": di, "aa": aa, "source": source}
    return chains


def prepare_models(arch: str, work: Path, gpu: bool, int8: bool, ablation: bool = False) -> dict[str, Path]:
    """Random-weight checkpoint, its fp32 export, int8 copy (CPU) and fp16 exports (GPU); cached in work/.
    ``ablation`` adds the steps in between: fp32 with fused attention, int8 without it, int8 asked for
    every row's logits."""
    from saprot_scan import random_checkpoint
    from saprot_scan import export_onnx
    from saprot_scan import quantize_int8

    folder = work / arch
    hf = folder / "hf"
    if not (hf / "config.json").is_file():
        random_checkpoint(hf, arch, seed=0)
    files = {"hf": hf, "fp32": folder / f"{arch}.onnx"}
    if files["fp32"].is_file() and not _current_format(files["fp32"]):
        log(f"{files['fp32'].name} is an older export format: rebuilding it and its copies")
        for stale in [files["fp32"], *folder.glob(f"{arch}.*.onnx*"), *folder.glob("*/*.onnx*"),
                      files["fp32"].with_name(files["fp32"].name + ".data")]:
            stale.unlink(missing_ok=True)
    if not files["fp32"].is_file():
        log(f"exporting {arch} fp32 ...")
        export_onnx(hf, files["fp32"])
    if int8:
        files["int8"] = folder / f"{arch}.int8.onnx"
        if not files["int8"].is_file():
            log(f"quantizing {arch} to int8 (with its score check) ...")
            quantize_int8(files["fp32"], files["int8"])
    if ablation and not gpu:
        files["int8-unfused"] = folder / "ablation" / f"{arch}.int8.onnx"
        files["fp32-fused"] = folder / "ablation" / f"{arch}-fused.onnx"
        files["int8-unfused"].parent.mkdir(exist_ok=True)
        if not files["int8-unfused"].is_file():
            quantize_int8(files["fp32"], files["int8-unfused"], fuse=False)
        if not files["fp32-fused"].is_file():
            write_fused(files["fp32"], files["fp32-fused"], fp16=False)
        if "int8" in files:
            files["int8-allrows"] = files["int8"]  # the same file, asked for every row (EveryRowModel)
    if gpu:
        files["fp16"] = folder / f"{arch}.fp16.onnx"
        if not files["fp16"].is_file():
            log(f"exporting {arch} fp16 ...")
            export_onnx(hf, files["fp16"], fp16=True)
        files["fp16-fused"] = folder / "fused" / f"{arch}.fp16.onnx"
        if not files["fp16-fused"].is_file():
            files["fp16-fused"].parent.mkdir(exist_ok=True)
            try:
                write_fused(files["fp32"], files["fp16-fused"], fp16=True)
            except Exception as err:  # measured where it works; reported where it does not
                log(f"fused fp16 variant unavailable: {err}")
                files.pop("fp16-fused")
    return files


def _current_format(path: Path) -> bool:
    """Whether an export in the work folder was made by this version's exporter."""
    from saprot_scan import FORMAT_TAG
    from saprot_scan import read_metadata

    return read_metadata(path).get("saprot_scan.format") == FORMAT_TAG


def write_fused(src: Path, out: Path, fp16: bool) -> None:
    """fp32 export with attention on onnxruntime's fused kernels, optionally converted to fp16."""
    import onnx

    from saprot_scan import fuse_attention

    model = onnx.load(str(src))
    if not fuse_attention(model):
        raise RuntimeError("attention pattern not recognised")
    if fp16:
        from onnxruntime.transformers.float16 import convert_float_to_float16

        model = convert_float_to_float16(model, keep_io_types=True)
        for prop in model.metadata_props:
            if prop.key == "saprot_scan.precision":
                prop.value = "fp16"
    big = sum(len(t.raw_data) for t in model.graph.initializer) > 1_800_000_000
    onnx.save(model, str(out), save_as_external_data=big, all_tensors_to_one_file=True,
              location=out.name + ".data")


# ---------------------------------------------------------------- arithmetic

def pass_flops(arch: str, tokens: int, query_rows: int | None = None) -> float:
    """Multiply-adds x2 of one forward pass: per layer 2T(4h^2 + 2hi) + 4T^2h, plus the LM head 2T(h^2 + hV).
    With ``query_rows`` R (the query-rows export) the last layer computes keys and values on all T rows
    but queries, attention, output, MLP and the head only on R rows."""
    d = ARCHITECTURES[arch]
    h, i, n = d["hidden_size"], d["intermediate_size"], d["num_hidden_layers"]
    rows = tokens if query_rows is None else query_rows
    per_layer = 2 * tokens * (4 * h * h + 2 * h * i) + 4 * tokens * tokens * h
    last = 2 * tokens * 2 * h * h + 2 * rows * (2 * h * h + 2 * h * i) + 4 * rows * tokens * h
    head = 2 * rows * (h * h + h * VOCAB_SIZE)
    return (n - 1) * per_layer + last + head


def matmul_peak(device: str, threads: int) -> dict[str, float]:
    """Measured matrix-multiply throughput (TFLOP/s) of this device with torch, per precision."""
    import torch

    torch.set_num_threads(threads)
    results = {}
    if device == "cuda":
        kinds, n, reps = [("fp16", torch.float16), ("bf16", torch.bfloat16), ("fp32", torch.float32)], 8192, 20
    else:
        kinds, n, reps = [("fp32", torch.float32), ("bf16", torch.bfloat16)], 2048, 5
    for name, dtype in kinds:
        a = torch.randn(n, n, device=device).to(dtype)
        b = torch.randn(n, n, device=device).to(dtype)
        best = _best_time(lambda: torch.matmul(a, b), reps, device)
        results[name] = 2 * n ** 3 / best / 1e12
    if device == "cpu":
        results.update(ort_matmul_peak(threads))
    if device == "cpu" and hasattr(torch, "_int_mm"):
        try:
            a = torch.randint(-128, 127, (n, n), dtype=torch.int8)
            b = torch.randint(-128, 127, (n, n), dtype=torch.int8)
            results["int8"] = 2 * n ** 3 / _best_time(lambda: torch._int_mm(a, b), reps, device) / 1e12
        except RuntimeError:
            pass
    return results


def ort_matmul_peak(threads: int, n: int = 2048, reps: int = 5) -> dict[str, float]:
    """onnxruntime's own kernels on one large weight matmul: fp32 MatMul and its dynamically
    quantized int8 form (the kernel the int8 copy runs), in TFLOP/s."""
    import tempfile

    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.standard_normal((n, n)).astype(np.float32), "w")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "peak",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n, n])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n, n])], [weight])
    x = rng.standard_normal((n, n)).astype(np.float32)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        fp32, int8 = Path(tmp) / "mm.onnx", Path(tmp) / "mm.int8.onnx"
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(fp32))
        import logging

        logging.getLogger().setLevel(logging.ERROR)  # the quantizer's generic pre-processing hint
        quantize_dynamic(str(fp32), str(int8), per_channel=True, weight_type=QuantType.QInt8)
        for name, path in (("ort fp32", fp32), ("ort int8", int8)):
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            best = _best_time(lambda: session.run(None, {"x": x}), reps, "cpu")
            out[name] = 2 * n ** 3 / best / 1e12
    return out


def _best_time(fn, reps: int, device: str) -> float:
    import torch

    fn()
    best = float("inf")
    for _ in range(reps):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


# ---------------------------------------------------------------- timed runs

class Clock:
    """Wall time and this process's CPU time of one block (CPU time shows contention on a shared box)."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def sample_positions(length: int, count: int) -> list[int]:
    return sorted(set(np.linspace(0, length - 1, min(count, length)).round().astype(int).tolist()))


def ort_masked_subset(model, chain: dict, positions: list[int], batch: int) -> np.ndarray:
    """The scan's own batching, restricted to some positions (for extrapolated timings)."""
    ids, struct = chain["ids"], chain["struct"]
    out = np.zeros((len(positions), 20))
    for start in range(0, len(positions), batch):
        chunk = positions[start:start + batch]
        batch_ids = np.repeat(ids[None, :], len(chunk), axis=0)
        local = np.array(chunk) + 1
        batch_ids[np.arange(len(chunk)), local] = [token_id("#", struct[p]) for p in chunk]
        logits = model.logits(batch_ids, np.ones_like(batch_ids), local[:, None].astype(np.int64))
        out[start:start + len(chunk)] = aa_log_probs(logits[:, 0])
    return out


def warm_up(fn, tries: int = 6, tolerance: float = 0.15) -> None:
    """Repeat until two runs in a row agree: first runs pay for allocations, and on this VM for paging
    a large model's cold weights back in (seen as several-fold slower first passes of the 650M model)."""
    last = None
    for _ in range(tries):
        start = time.perf_counter()
        fn()
        took = time.perf_counter() - start
        if last is not None and abs(took - last) <= tolerance * max(took, last):
            return
        last = took


def fastest_torch_threads(run_subset, length: int, threads: int) -> int:
    """1 or ``threads`` torch threads, whichever runs SaProt's loop faster here. On a loaded machine
    PyTorch's OpenMP workers stall each other at every small op (measured: 0.1 s per pass on one thread,
    0.15-3 s on two), which would flatter saprot-scan; the baseline gets its better setting."""
    import torch

    positions = sample_positions(length, 2)
    timings = {}
    for count in (threads, 1):
        torch.set_num_threads(count)
        warm_up(lambda: run_subset(positions[:1]))
        start = time.perf_counter()
        run_subset(positions)
        timings[count] = time.perf_counter() - start
    torch.set_num_threads(threads)
    return min(timings, key=timings.get)


def timed_masked(label: str, run_subset, run_full, length: int, budget: float, probe: int) -> dict:
    """Full scan when it fits the budget (estimated from a probe of positions), else extrapolated."""
    probe_pos = sample_positions(length, probe)
    warm_up(lambda: run_subset(probe_pos[:2]))
    with Clock() as c:
        sub = run_subset(probe_pos)
    per_pass = c.wall / len(probe_pos)
    estimate = per_pass * length
    if run_full is not None and estimate <= budget:
        with Clock() as c:
            scores = run_full()
        return {"what": label, "seconds": c.wall, "cpu_seconds": c.cpu, "how": "full scan", "scores": scores}
    return {"what": label, "seconds": estimate, "cpu_seconds": c.cpu / len(probe_pos) * length,
            "how": f"extrapolated from {len(probe_pos)} of {length} positions", "sample": (probe_pos, sub)}


def run_case(arch: str, files: dict, chain: dict, device: str, threads: int, budget: float, probe: int,
             loop_budget: float, variants: list[str]) -> list[dict]:
    import torch

    from saprot_scan import load_model_file

    length, tokens = len(chain["aa"]), len(chain["ids"])
    rows, ref_scores = [], {}
    wt_cols = wt_columns(chain["aa"])
    torch.set_num_threads(threads)
    os.environ["SAPROT_SCAN_THREADS"] = str(threads)
    tdev = "cuda" if device == "cuda" else "cpu"
    if tdev == "cuda" and not torch.cuda.is_available():
        raise SystemExit("the SaProt loop baseline on the GPU needs a CUDA build of torch "
                         "(pip install torch==2.13.0 from PyPI on Linux); the CPU-only torch is installed")
    tmodel = load_torch_model(files["hf"], tdev)
    loop_threads = threads
    if tdev == "cpu" and threads > 1:
        loop_threads = fastest_torch_threads(lambda pos: masked_positions_loop(tmodel, chain["ids"], chain["struct"],
                                                                              pos, tdev), length, threads)
    torch.set_num_threads(loop_threads)
    loop = timed_masked(f"SaProt loop (PyTorch fp32, 1 position/pass, {loop_threads} thread"
                        f"{'s' if loop_threads > 1 else ''})",
                        lambda pos: masked_positions_loop(tmodel, chain["ids"], chain["struct"], pos, tdev),
                        lambda: to_scores(masked_positions_loop(tmodel, chain["ids"], chain["struct"],
                                                                 range(length), tdev), wt_cols),
                        length, loop_budget, probe)
    warm_up(lambda: wt_pass(tmodel, chain["ids"], tdev))
    with Clock() as c:
        wt_pass(tmodel, chain["ids"], tdev)
    torch.set_num_threads(threads)
    rows.append(loop)
    rows.append({"what": "SaProt wt-marginal (PyTorch fp32, 1 pass)", "seconds": c.wall, "cpu_seconds": c.cpu,
                 "how": "full"})
    tmodel = None  # free its memory before the onnxruntime sessions load
    for variant in [v for v in variants if v in files]:
        precision = variant.split("-")[0]
        model = load_model_file(files[variant], device="cuda" if precision == "fp16" else "cpu",
                                precision=precision)
        if variant.endswith("-allrows"):
            model = EveryRowModel(model)
        batch = model.default_batch_size(tokens)
        label = f"saprot-scan ORT {variant} {model.device}"
        row = timed_masked(f"{label} masked (batch {batch})",
                           lambda pos: ort_masked_subset(model, chain, pos, batch),
                           lambda: masked_marginal(model, chain["ids"], chain["struct"], chain["aa"]),
                           length, budget, max(probe, 2 * batch))
        rows.append(row)
        warm_up(lambda: wt_marginal(model, chain["ids"], chain["aa"]))
        with Clock() as c:
            wt_scores = wt_marginal(model, chain["ids"], chain["aa"])
        rows.append({"what": f"{label} wt-marginal", "seconds": c.wall, "cpu_seconds": c.cpu, "how": "full",
                     "scores": wt_scores})
        ref_scores[variant] = row
        model = None
    _agreements(rows, ref_scores, loop, chain)
    flops = pass_flops(arch, tokens)
    for row in rows:
        wt = "wt-marginal" in row["what"]
        # Masked scans of the query-rows export do less arithmetic than SaProt's loop: count what ran.
        picked = row["what"].startswith("saprot-scan") and "allrows" not in row["what"] and not wt
        row["tflop"] = (pass_flops(arch, tokens, 1) if picked else flops) * (1 if wt else length) / 1e12
        row["tflops_per_s"] = row["tflop"] / row["seconds"]
        row["vs_loop"] = (rows[1] if wt else loop)["seconds"] / row["seconds"]
        row.pop("scores", None)
        row.pop("sample", None)
        row.update(arch=arch, length=length, tokens=tokens, device=device, threads=threads)
    return rows


def _log_probs_of(row: dict, length: int) -> tuple[list[int], np.ndarray] | None:
    """Positions and log-prob-derived scores a row computed (full or sampled)."""
    if "scores" in row and row["scores"] is not None:
        return list(range(length)), row["scores"]
    if "sample" in row:
        return row["sample"]
    return None


def _agreements(rows: list[dict], variants: dict, loop: dict, chain: dict) -> None:
    """Per-position Spearman of each variant against fp32 ORT (and fp32 ORT against the PyTorch loop)."""
    length, aa = len(chain["aa"]), chain["aa"]
    wt_cols = wt_columns(aa)

    def scores_at(row):
        got = _log_probs_of(row, length)
        if got is None:
            return None
        pos, values = got
        if values.shape[0] == length and "scores" in row:
            return pos, values
        return pos, to_scores(values, wt_cols[pos])

    ref = variants.get("fp32")
    ref_at = scores_at(ref) if ref else None
    for name, row in variants.items():
        against = ref_at if name != "fp32" else scores_at(loop)
        mine = scores_at(row)
        if against is None or mine is None:
            continue
        common = sorted(set(against[0]) & set(mine[0]))
        if not common:
            continue
        a = against[1][[against[0].index(p) for p in common]]
        b = mine[1][[mine[0].index(p) for p in common]]
        agreement = compare_scores(a, b, "".join(aa[p] for p in common))
        row["agreement_with"] = "PyTorch loop" if name == "fp32" else "ORT fp32"
        row["agreement"] = agreement.__dict__


# ---------------------------------------------------------------- report

def log(text: str) -> None:
    print(f"[{dt.datetime.now(dt.timezone.utc):%H:%M:%S}] {text}", file=sys.stderr, flush=True)


def machine(device: str, threads: int) -> dict:
    import onnxruntime
    import torch
    import transformers

    info = {"date_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": " ".join([Path(sys.executable).name, *sys.argv]), "python": platform.python_version(),
            "onnxruntime": onnxruntime.__version__, "torch": torch.__version__,
            "transformers": transformers.__version__, "numpy": np.__version__, "threads": threads,
            "cpu": cpu_name(), "cores": os.cpu_count()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                info["cpu"] = line.split(":", 1)[1].strip()
            if "avx512_vnni" in line:
                info["cpu_features"] = " ".join(f for f in ("avx512_vnni", "avx512_bf16", "amx_int8", "amx_bf16")
                                                if f in line.split())
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        info["load_average_at_start"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        pass
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def render(results: dict) -> str:
    m = results["machine"]
    lines = [f"Measured {m['date_utc']} on {m['cpu']} ({m['cores']} cores{', ' + m['gpu'] if 'gpu' in m else ''}), "
             f"{m['threads']} threads; onnxruntime {m['onnxruntime']}, torch {m['torch']}, transformers "
             f"{m['transformers']}, Python {m['python']}. Load average at start: {m.get('load_average_at_start', '?')}.",
             f"Command: `{m['command']}`", ""]
    peak = results["peak"]
    lines.append("Measured matrix-multiply peak (torch, and onnxruntime's own kernels where marked ort): "
                 + ", ".join(f"{k} {v:.2f} TFLOP/s" for k, v in peak.items()) + ".")
    lines += ["", "| model | residues | what | seconds | CPU s | how | x loop | TFLOP | TFLOP/s | agreement |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results["rows"]:
        agree = ""
        if "agreement" in r:
            a = r["agreement"]
            agree = (f"vs {r['agreement_with']}: rho mean {a['mean_spearman']:.4f}, min {a['min_spearman']:.3f}, "
                     f"{100 * a['share_at_least_099']:.0f}% of positions >= 0.99, "
                     f"max abs diff {a['max_abs_diff']:.3g} ({a['positions']} pos)")
        lines.append(f"| {r['arch']} | {r['length']} | {r['what']} | {r['seconds']:.3f} | {r['cpu_seconds']:.2f} | "
                     f"{r['how']} | {r['vs_loop']:.2f} | {r['tflop']:.3f} | {r['tflops_per_s']:.3f} | {agree} |")
    return "\n".join(lines)


def write_markdown(block: str, device: str) -> None:
    path = REPO / "BENCHMARKS.md"
    begin, end = f"<!-- bench:begin {device} -->", f"<!-- bench:end {device} -->"
    replace_block(path, begin, end, f"{begin}\n{block}\n{end}")


def write_runs(runs: list[dict], device: str) -> None:
    """One BENCHMARKS.md block from several runs; an earlier run's rows win over later ones of the same
    model and length."""
    for k, run in enumerate(runs):
        newer = {(r["arch"], r["length"]) for other in runs[:k] for r in other["rows"]}
        run["rows"] = [r for r in run["rows"] if (r["arch"], r["length"]) not in newer]
    write_markdown("\n\n".join(render(r) for r in runs if r["rows"]), device)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--archs", default="saprot-35m,saprot-650m")
    parser.add_argument("--lengths", default="100,300,1000")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--budget", type=float, default=150.0,
                        help="seconds a full saprot-scan scan may take before it is extrapolated")
    parser.add_argument("--loop-budget", type=float, default=90.0,
                        help="seconds a full SaProt loop may take before it is extrapolated")
    parser.add_argument("--probe", type=int, default=8, help="positions timed to decide/extrapolate")
    parser.add_argument("--work", default=str(HERE / "_work"))
    parser.add_argument("--no-markdown", action="store_true")
    parser.add_argument("--merge", nargs="*", default=[], metavar="RESULTS.json",
                        help="earlier runs (bench/results/*.json) to show in the same block, after this one")
    parser.add_argument("--ablation", action="store_true",
                        help="35M on CPU: also fp32 with fused attention, int8 without it, and int8 "
                             "computing every row's logits")
    parser.add_argument("--render", nargs="+", default=[], metavar="RESULTS.json",
                        help="measure nothing: write BENCHMARKS.md's block from saved runs (first wins on overlap)")
    args = parser.parse_args()
    if args.render:
        write_runs([json.loads(Path(f).read_text()) for f in args.render], args.device)
        return 0
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    gpu = args.device == "cuda"
    # fp32 (CPU) is every variant's reference
    variants = ["fp32", "fp16", "fp16-fused"] if gpu else ["fp32", "fp32-fused", "int8-unfused", "int8"]
    if args.ablation and not gpu:
        variants.insert(-1, "int8-allrows")
    results = {"machine": machine(args.device, args.threads), "rows": []}
    log(f"matmul peak on {args.device} ...")
    results["peak"] = matmul_peak(args.device, args.threads)
    chains = test_chains([int(x) for x in args.lengths.split(",")])
    results["chains"] = {n: c["source"] for n, c in chains.items()}
    for arch in args.archs.split(","):
        files = prepare_models(arch, work, gpu, int8=not gpu, ablation=args.ablation and arch == "saprot-35m")
        for n, chain in chains.items():
            log(f"{arch} L={n} on {args.device} ...")
            probe = args.probe if arch != "saprot-650m" else max(2, args.probe // 2)
            results["rows"] += run_case(arch, files, chain, args.device, args.threads, args.budget, probe,
                                        args.loop_budget, variants)
            print(render({**results, "rows": [r for r in results["rows"] if r["arch"] == arch
                                              and r["length"] == n]}).split("\n", 4)[-1], flush=True)
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M")
    (out_dir / f"{stamp}-{args.device}.json").write_text(json.dumps(results, indent=1, default=str))
    if not args.no_markdown:
        write_runs([results] + [json.loads(Path(f).read_text()) for f in args.merge], args.device)
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
