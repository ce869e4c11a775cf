"""Where a result came from: the command line, the git commit and the machine.

The same seed gives the same weights only on the same NumPy and BLAS build, with the same
BLAS kernels and thread count, and the same ``--workers``: BLAS picks its kernels per
processor (OpenBLAS's ``architecture``), and NumPy its SIMD loops, and kernels that add in
another order round differently; over an epoch of steps the difference grows into other
weights. (Measured: ``--net lenet5-1998`` gave 0.92 % on the machine it was trained on and
1.09 % on two others; one epoch of it on 2,000 images with OpenBLAS on 1 thread instead of 2
already ends with other weights.) :func:`environment` records what decides this, in every
run.json and summary.json, and :func:`build_differences` says what differs between two
records.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
import sys

import numpy as np

from .step import usable_cores

# The fields of an environment record on which bit-for-bit re-training depends (the rest,
# core counts and the OS, only describe the machine).
BUILD_KEYS = ("numpy", "numpy_simd", "blas", "cpu")


def git_commit(cwd: str | None = None) -> str:
    """``git rev-parse HEAD`` of the repository holding this package, or ``"uncommitted"``."""
    cwd = cwd or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "uncommitted"
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and len(sha) == 40 else "uncommitted"


def command_line(argv: list[str] | None = None) -> str:
    """The command that ran, e.g. ``python scripts/train.py --net lenet5``."""
    argv = sys.argv if argv is None else argv
    return "python " + " ".join(shlex.quote(a) for a in argv)


def cpu_model() -> str:
    """The processor's name (``/proc/cpuinfo``'s model name on Linux, else what
    :mod:`platform` knows, else the machine type)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(("model name", "Model", "Hardware")) and ":" in line:
                    return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    if sys.platform == "darwin":
        try:
            out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"],
                                 capture_output=True, text=True, timeout=5)
            if out.returncode == 0 and out.stdout.strip():
                return out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine() or "unknown"


def blas_libraries() -> list[dict]:
    """Each BLAS library NumPy has loaded: its name, version, the kernels chosen for this
    processor and its thread count (from threadpoolctl)."""
    from threadpoolctl import threadpool_info     # numpy (imported above) has loaded BLAS

    return [{"library": info.get("internal_api"), "version": info.get("version"),
             "kernels": info.get("architecture"), "threads": info.get("num_threads"),
             "threading": info.get("threading_layer")}
            for info in threadpool_info() if info.get("user_api") == "blas"]


def numpy_simd() -> list[str]:
    """The SIMD extensions NumPy's loops dispatch to on this processor (beyond its baseline)."""
    try:
        return list(np.show_config(mode="dicts")["SIMD Extensions"]["found"])
    except Exception:       # older NumPy: no mode="dicts"
        return []


def environment() -> dict:
    """What a run's numbers depend on beyond its config: NumPy and its SIMD loops, the BLAS
    library (version, kernels, threads), the CPU, Python and the OS (JSON-ready)."""
    return {
        "numpy": np.__version__,
        "numpy_simd": numpy_simd(),
        "blas": blas_libraries(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "python": platform.python_version(),
        "os": platform.platform(terse=True),
    }


def _blas_text(blas: dict) -> str:
    name = {"openblas": "OpenBLAS", "mkl": "MKL", "blis": "BLIS"}.get(blas.get("library"),
                                                                      blas.get("library"))
    details = [f"{blas['kernels']} kernels"] if blas.get("kernels") else []
    if blas.get("threads") is not None:
        details.append(f"{blas['threads']} thread" + ("s" if blas["threads"] != 1 else ""))
    return f"{name} {blas.get('version') or ''}".strip() + (f" ({', '.join(details)})"
                                                            if details else "")


def describe(env: dict | None) -> str:
    """One line, e.g. ``NumPy 2.4.6, OpenBLAS 0.3.31 (SkylakeX kernels, 2 threads),
    AMD EPYC (2 cores), Python 3.11.7``; ``not recorded`` for None."""
    if not env:
        return "not recorded"
    parts = [f"NumPy {env.get('numpy', '?')}"]
    parts += [_blas_text(b) for b in env.get("blas") or []] or ["no BLAS found"]
    cores = env.get("usable_cores") or env.get("cores")
    parts.append(f"{env.get('cpu', 'unknown CPU')}" + (f" ({cores} cores)" if cores else ""))
    parts.append(f"Python {env.get('python', '?')}")
    return ", ".join(parts)


def build_differences(a: dict | None, b: dict | None) -> list[str]:
    """What differs between two :func:`environment` records among the fields bit-for-bit
    re-training depends on (:data:`BUILD_KEYS`), e.g. ``["numpy 2.2.0 vs 2.4.6"]``;
    [] when they agree or either is missing."""
    if not a or not b:
        return []
    out = []
    for key in BUILD_KEYS:
        if a.get(key) != b.get(key):
            if key == "blas":
                out.append("BLAS " + "; ".join(map(_blas_text, a.get(key) or [])) + " vs "
                           + "; ".join(map(_blas_text, b.get(key) or [])))
            elif key == "numpy_simd":
                out.append(f"NumPy SIMD {'+'.join(a.get(key) or []) or 'baseline'} vs "
                           f"{'+'.join(b.get(key) or []) or 'baseline'}")
            else:
                out.append(f"{key} {a.get(key)} vs {b.get(key)}")
    return out


def recorded_environment(path: str) -> tuple[dict | None, str | None]:
    """The environment a weights file or run directory was trained in, and the file that
    says so: RUN_DIR/run.json (or summary.json) for a run directory or a weights.npz or
    checkpoint.npz in one; for another file NAME.npz, NAME.json or NAME-run/run.json beside
    it (the shipped models' layout). ``(None, None)`` when none records one (runs written
    before environments were recorded)."""
    from .rundir import RUN_INFO, SUMMARY

    if os.path.isdir(path):
        candidates = [os.path.join(path, n) for n in (RUN_INFO, SUMMARY)]
    else:
        folder, name = os.path.split(path)
        stem = os.path.splitext(name)[0]
        candidates = [os.path.join(folder, n) for n in (RUN_INFO, SUMMARY)] + [
            os.path.join(folder, stem + ".json"), os.path.join(folder, stem + "-run", RUN_INFO)]
    for candidate in candidates:
        try:
            with open(candidate, encoding="utf-8") as f:
                env = json.load(f).get("environment")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(env, dict):
            return env, candidate
    return None, None


def environment_lines(trained: dict | None, source: str | None = None) -> list[str]:
    """Two lines for a script's output: where the weights were trained (from ``source``)
    and where they are used now, with what differs among :data:`BUILD_KEYS`."""
    now = environment()
    where = f"({source})" if source else "(no run.json beside the weights records it)"
    lines = [f"trained with: {describe(trained)} {where}"]
    differences = build_differences(trained, now)
    if trained and not differences:
        lines.append("running with: the same NumPy, BLAS (kernels, threads) and CPU")
    else:
        lines.append(f"running with: {describe(now)}"
                     + (f" (differs: {'; '.join(differences)})" if differences else ""))
    return lines
