#!/usr/bin/env python
"""Train one recipe over several seeds and tabulate the test error: each seed, the median,
mean, sample standard deviation, min and max, the time and the environment.

    python scripts/seeds.py --seeds 0-4 --out runs/seeds/lenet5-1998 -- --net lenet5-1998
    python scripts/seeds.py --seeds 0-4 --out runs/seeds/elastic -- \\
        --net lenet5 --augment --elastic 16 --epochs 40
    python scripts/seeds.py --seeds 0-9 --out runs/seeds/lenet5-1998 -- --net lenet5-1998
        # the same table extended: seeds 0-4 are read, 5-9 trained

Everything after -- goes to train.py (see python scripts/train.py --help); the table sets
--seed and --out itself. Seed K is the run directory OUT/seed-K of
`python scripts/train.py ARGS --seed K --out OUT/seed-K`, trained by its own train.py
process, --jobs of them at once. Run the same command again after Ctrl-C, a crash or with
more seeds: finished seeds are read, interrupted ones continue with train.py --resume.
OUT/seeds.json and OUT/seeds.md hold the table, OUT/logs/seed-K.log what each run printed.

With --jobs above 1 each run gets cores / jobs BLAS threads (unless OPENBLAS_NUM_THREADS,
OMP_NUM_THREADS or MKL_NUM_THREADS is set): several runs each on every core spin and wait.
The thread count is recorded with the environment; lenet5-1998's weights depend on it.

Exit codes: 0 every seed finished, 1 a seed failed (see its log) or the table could not be
written, 2 bad usage (train.py's included, one line on stderr), 3 a seed diverged,
130 interrupted (Ctrl-C, SIGTERM, or SIGHUP unless under nohup; every run keeps its last
checkpoint).
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
from pathlib import Path

from safeio.cli import ArgumentParser, run_main
from training.provenance import command_line
from training.seeds import (TABLE_MD, SeedTable, SeedTableError, check_train_args,
                            parse_seeds)

PROG = "seeds.py"
EXIT_FAILED, EXIT_DIVERGED = 1, 3
TRAIN = str(Path(__file__).resolve().with_name("train.py"))


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog=PROG, description=__doc__,
                       usage="%(prog)s --seeds SEEDS --out DIR [options] -- [train.py args]")
    p.add_argument("--seeds", required=True, metavar="SEEDS",
                   help="seeds to train: a range 0-4, a list 0,2,7 or both 0-2,9")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="the table's folder (created); run the same command on it again to "
                   "continue or extend the table")
    p.add_argument("--jobs", type=int, metavar="N",
                   help="train.py processes at once (default: one per core, at most one "
                   "per seed left to train)")
    p.add_argument("--blas-threads", type=int, metavar="N",
                   help="BLAS threads per run (default: cores / jobs with more than one job, "
                   "else BLAS's own default, as train.py alone)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _error(message: str, code: int) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    ours, train_args = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) \
        if "--" in argv else (argv, [])
    parser = build_parser()
    args, extra = parser.parse_known_args(ours)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)} (train.py's arguments go "
                     "after --)")
    try:
        seeds = parse_seeds(args.seeds)
    except ValueError as e:
        parser.error(f"argument --seeds: {e}")
    for name in ("jobs", "blas_threads"):
        v = getattr(args, name)
        if v is not None and v < 1:
            parser.error(f"argument --{name.replace('_', '-')}: must be >= 1, got {v}")
    try:
        check_train_args(train_args)
    except ValueError as e:
        parser.error(str(e))
    try:
        table = SeedTable(args.out, seeds, train_args, train_command=[sys.executable, TRAIN],
                          seeds_text=args.seeds, jobs=args.jobs,
                          blas_threads=args.blas_threads, progress=not args.no_progress,
                          command=command_line(["scripts/seeds.py"] + argv))
    except SeedTableError as e:
        return _error(str(e), 2)
    recipe = " ".join(shlex.quote(a) for a in train_args) or "(train.py's defaults)"
    n = table.blas_threads
    threads = f", {n} BLAS thread{'s' if n != 1 else ''} each" if n else ""
    print(f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''} of train.py {recipe} in "
          f"{args.out}, {table.jobs} at once"
          f"{threads}")
    # The runs are in sessions of their own: a kill or a closed terminal must reach them
    # through the table, like Ctrl-C, or they would train on unwatched. (Under nohup,
    # SIGHUP stays ignored.)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) != signal.SIG_IGN:
            signal.signal(sig, _interrupt)
    try:
        result = table.run()
    except SeedTableError as e:
        return _error(str(e), 2)
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted; every run keeps its last checkpoint and "
              f"{args.out}/{TABLE_MD} shows what is done. Continue with the same command",
              file=sys.stderr)
        return 130
    except OSError as e:
        return _error(f"cannot write to {args.out}: {e}", EXIT_FAILED)
    stats = result["summary"]
    done = sum(r["status"] == "done" for r in result["rows"])
    if stats:
        std = f" (std {100 * stats['std']:.2f}%)" if stats["std"] is not None else ""
        print(f"test error over {stats['n']} seeds: median {100 * stats['median']:.2f}%, "
              f"mean {100 * stats['mean']:.2f}%{std}, min {100 * stats['min']:.2f}%, "
              f"max {100 * stats['max']:.2f}%; closest to the median: seed "
              f"{result['median_seed']}; table: {Path(args.out) / TABLE_MD}")
    statuses = {r["status"] for r in result["rows"]}
    if done == len(seeds):
        return 0
    if "failed" in statuses or "unfinished" in statuses:
        return _error(f"{len(seeds) - done} of {len(seeds)} seeds did not finish; see "
                      f"{Path(args.out) / 'logs'}", EXIT_FAILED)
    return _error(f"{len(seeds) - done} of {len(seeds)} seeds diverged; see "
                  f"{Path(args.out) / TABLE_MD}", EXIT_DIVERGED)


if __name__ == "__main__":
    sys.exit(run_main(main))
