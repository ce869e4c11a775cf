"""Seed tables: one training recipe over several seeds, with the mean and spread of the
test error and the environment it was measured in.

Each seed is a normal run directory of train.py, ``OUT/seed-K``, trained by a train.py
process (``--seed K --out OUT/seed-K``), several at once. Run again, a table trains only
what is missing: a finished seed (weights.npz and summary.json) is read, an interrupted one
is continued with train.py's own ``--resume``. ``OUT/seeds.json`` and ``OUT/seeds.md`` hold
the table; ``OUT/logs/seed-K.log`` what each train.py printed.

A train.py that runs alone lets BLAS use every core; several at once would each start as
many BLAS threads, which spin and wait for one another (two lenet5-1998 runs on 2 cores:
10.8 s per epoch of 6,000 images instead of 3.6 s). So with ``jobs`` > 1 each run gets
``cores // jobs`` BLAS threads unless the environment already sets them. The thread count
changes lenet5-1998's weights (BLAS splits its sums by thread), so it is recorded, with the
rest of the environment, in every seed's run.json and in the table.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import statistics
import subprocess
import time

from tqdm import tqdm

from safeio.atomic import write_text

from .provenance import build_differences, describe, environment, git_commit
from .rundir import CHECKPOINT, METRICS, RUN_INFO, SUMMARY, WEIGHTS, run_dir_entries
from .step import usable_cores

TABLE_JSON, TABLE_MD, LOGS = "seeds.json", "seeds.md", "logs"
# Flags a seed table sets itself for every run.
RESERVED = ("--seed", "--out", "--resume", "--no-progress", "--help")
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
# train.py's exit codes.
TRAIN_USAGE, TRAIN_DIVERGED = 2, 3
STOP_WAIT_S = 60    # how long runs may take to stop after Ctrl-C before they are killed


@contextlib.contextmanager
def _interruptible_children():
    """Children started inside see SIGINT: a process started with ``&`` in a script ignores
    it, its children inherit that, and Python then never raises KeyboardInterrupt in them
    (a handled signal, unlike an ignored one, is reset to the default at exec)."""
    try:
        ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        if ignored:
            signal.signal(signal.SIGINT, lambda signum, frame: None)
    except ValueError:      # not the main thread: leave it
        ignored = False
    try:
        yield
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


class SeedTableError(ValueError):
    """A seed table that cannot be run as asked; the message is one line."""


def seed_dir_name(seed: int) -> str:
    return f"seed-{seed}"


def parse_seeds(text: str) -> list[int]:
    """Seeds from ``"0-4"``, ``"0,2,7"`` or ``"0-2,9"`` (ranges inclusive), in order.

    Raises
    ------
    ValueError
        Naming the bad part: not a number or range, a range that runs backwards, a repeat.
    """
    seeds: list[int] = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not m:
            raise ValueError(f"{part.strip()!r} is not a seed (an integer >= 0) or a range "
                             "like 0-4")
        lo, hi = int(m[1]), int(m[2] if m[2] is not None else m[1])
        if hi < lo:
            raise ValueError(f"range {part.strip()!r} runs backwards")
        for s in range(lo, hi + 1):
            if s in seeds:
                raise ValueError(f"seed {s} is given twice")
            seeds.append(s)
    return seeds


def check_train_args(args: list[str]) -> None:
    """The train.py arguments of a recipe may not set what the table sets per seed.

    Raises
    ------
    ValueError
        Naming the flag (abbreviations included: argparse accepts them).
    """
    for a in args:
        name = a.split("=", 1)[0]
        if name.startswith("--") and len(name) > 3:
            hit = next((r for r in RESERVED if r.startswith(name)), None)
            if hit:
                raise ValueError(f"train.py's {hit} is set by the table for each seed; "
                                 f"drop {a}")
        elif name == "-h":
            raise ValueError("train.py's -h: see python scripts/train.py --help")


def _read_json(path: str):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise SeedTableError(f"{path}: not readable JSON ({e})") from None


def _epochs_logged(run_dir: str) -> int:
    try:
        with open(os.path.join(run_dir, METRICS), encoding="utf-8") as f:
            return sum(1 for line in f if line.strip())
    except OSError:
        return 0


def seed_state(run_dir: str) -> str:
    """``"done"`` (weights.npz and summary.json), ``"resume"`` (train.py started it) or
    ``"new"`` (absent or empty).

    Raises
    ------
    SeedTableError
        ``run_dir`` holds files, but no run of train.py.
    """
    try:
        held = run_dir_entries(run_dir)
    except ValueError as e:
        raise SeedTableError(str(e)) from None
    if not held:
        return "new"
    if WEIGHTS in held and SUMMARY in held:
        return "done"
    if CHECKPOINT in held or RUN_INFO in held:
        return "resume"
    raise SeedTableError(f"{run_dir} holds {', '.join(held[:4])} but no run of train.py; "
                         "move it away or choose a new --out")


def summarize(errors: list[float]) -> dict | None:
    """Median, mean, sample standard deviation, min and max of test errors (fractions);
    None for none."""
    if not errors:
        return None
    return {"n": len(errors), "median": statistics.median(errors),
            "mean": statistics.fmean(errors),
            "std": statistics.stdev(errors) if len(errors) > 1 else None,
            "min": min(errors), "max": max(errors)}


def median_seed(rows: list[dict]) -> int | None:
    """The finished seed whose test error is closest to the median (the lowest such seed):
    the run to ship for a recipe, so that its figure is typical, not the best draw."""
    done = [r for r in rows if r.get("status") == "done" and r.get("test_error") is not None]
    if not done:
        return None
    mid = statistics.median(r["test_error"] for r in done)
    return min(done, key=lambda r: (abs(r["test_error"] - mid), r["seed"]))["seed"]


def _short(commit: str) -> str:
    """A hash cut to 10 digits; anything else (``uncommitted``) as it is."""
    return commit[:10] if all(c in "0123456789abcdef" for c in commit) else commit


def _pct(v) -> str:
    return f"{100 * v:.2f} %"


def _threads_variable(env: dict | None) -> str:
    """``OPENBLAS_NUM_THREADS=N `` for the BLAS threads an environment record names
    (``""`` if it names none): the part of a command that re-creates them."""
    blas = (env or {}).get("blas") or [{}]
    name = {"openblas": "OPENBLAS_NUM_THREADS", "mkl": "MKL_NUM_THREADS"}.get(
        blas[0].get("library"), "OMP_NUM_THREADS")
    return f"{name}={blas[0]['threads']} " if blas[0].get("threads") else ""


def markdown(table: dict) -> str:
    """The table as Markdown: one row per seed, the summary, time and environment."""
    rows, stats = table["rows"], table["summary"]
    train = "python scripts/train.py " + " ".join(shlex.quote(a) for a in table["train_args"])
    done = sum(r["status"] == "done" for r in rows)
    out = [f"# Seed table: {table['name']}", "",
           f"`{train.strip()}` with `--seed K`, seeds {table['seeds_text']}: "
           f"{done} of {len(rows)} finished.", "",
           "| seed | test error | epochs | training time | run directory |",
           "|---:|---:|---:|---:|---|"]
    for r in rows:
        if r["status"] == "done":
            cells = [_pct(r["test_error"]), str(r["epochs"]), f"{r['train_wall_s']:.0f} s"]
        else:
            what = {"diverged": "diverged", "failed": f"failed (exit {r.get('exit_code')})"}.get(
                r["status"], f"not finished ({r.get('epochs_done', 0)} epochs)")
            cells = [what, "", ""]
        note = f" (other environment: {r['environment_differs']})" \
            if r.get("environment_differs") else ""
        out.append(f"| {r['seed']} | " + " | ".join(cells) + f" | {r['run_dir']}{note} |")
    out.append("")
    if stats:
        spread = f" (sample std {_pct(stats['std'])})" if stats["std"] is not None else ""
        out.append(f"**Test error over {stats['n']} seeds: median {_pct(stats['median'])}, "
                   f"mean {_pct(stats['mean'])}{spread}, min {_pct(stats['min'])}, "
                   f"max {_pct(stats['max'])}.**")
        out.append("")
        seed = median_seed(rows)
        error = next(r["test_error"] for r in rows if r["seed"] == seed)
        out.append(f"Closest to the median: seed {seed} ({_pct(error)}), the run to ship "
                   "for this recipe.")
        out.append("")
    threads = table.get("blas_threads")
    out.append(f"Training time {table['train_wall_s']:.0f} s summed over the seeds; wall time "
               f"{table['wall_s']:.0f} s ({table['jobs']} at once"
               + (f", {threads} BLAS thread{'s' if threads != 1 else ''} each" if threads else "")
               + ").")
    out.append("")
    env_var = _threads_variable(table["environment"])
    commits = sorted({_short(r["commit"]) for r in rows if r.get("commit")}) \
        or [_short(table["commit"])]
    out.append(f"Environment: {describe(table['environment'])}; commit {', '.join(commits)}"
               + (" (the seeds were trained at different commits)" if len(commits) > 1 else "")
               + ". A seed re-trains byte for byte "
               f"(`{env_var}{train.strip()} --seed K`) only with the same NumPy and BLAS "
               "build, BLAS kernels and threads, and `--workers`.")
    out.append("")
    out.append(f"Made by `{table['command']}`.")
    return "\n".join(out) + "\n"


class SeedTable:
    """Train a recipe over seeds in parallel train.py processes and keep the table.

    Parameters
    ----------
    out : str
        The table's folder: ``seed-K/`` run directories, ``logs/``, seeds.json and seeds.md.
    seeds : list of int
    train_args : list of str
        train.py's arguments for the recipe, without --seed, --out or --resume.
    train_command : list of str
        How to start train.py, e.g. ``[sys.executable, "scripts/train.py"]``.
    jobs : int or None
        Runs at once (default: one per usable core, at most one per seed to train).
    blas_threads : int or None
        BLAS threads per run (default: usable cores // jobs when jobs > 1, else BLAS's own
        default; an environment that sets them wins).
    progress : bool
        A tqdm bar over the epochs of all seeds.
    command : str
        The command line, recorded in the table.

    Raises
    ------
    SeedTableError
        ``out`` holds another recipe's table, or something that is not a seed table.
    """

    def __init__(self, out: str, seeds: list[int], train_args: list[str], *,
                 train_command: list[str], seeds_text: str | None = None,
                 jobs: int | None = None, blas_threads: int | None = None,
                 progress: bool = True, command: str = "") -> None:
        check_train_args(train_args)
        self.out, self.seeds, self.train_args = out, list(seeds), list(train_args)
        self.train_command = list(train_command)
        self.seeds_text = seeds_text or ",".join(map(str, seeds))
        self.progress, self.command = progress, command
        self.previous = self._check_out()
        self.states = {s: seed_state(self.run_dir(s)) for s in self.seeds}
        self._check_runs()
        todo = sum(state != "done" for state in self.states.values())
        self.trains = todo > 0
        cores = usable_cores()
        self.jobs = jobs or max(1, min(cores, todo))
        self.blas_threads = blas_threads or (max(1, cores // self.jobs) if self.jobs > 1
                                             else None)
        self.wall_s = 0.0
        self.exit_codes: dict[int, int] = {}
        self.usage_error: str | None = None

    def run_dir(self, seed: int) -> str:
        return os.path.join(self.out, seed_dir_name(seed))

    def log_path(self, seed: int) -> str:
        return os.path.join(self.out, LOGS, f"{seed_dir_name(seed)}.log")

    def _check_out(self) -> dict | None:
        if os.path.exists(self.out) and not os.path.isdir(self.out):
            raise SeedTableError(f"argument --out: {self.out} exists and is not a directory")
        path = os.path.join(self.out, TABLE_JSON)
        previous = _read_json(path)
        if previous is not None:
            if not isinstance(previous, dict) or "train_args" not in previous:
                raise SeedTableError(f"{path}: not a seed table written by seeds.py")
            # Another recipe may take over a table none of whose seeds has started.
            if previous["train_args"] != self.train_args and self._any_run_started():
                theirs = " ".join(shlex.quote(a) for a in previous["train_args"])
                raise SeedTableError(f"{self.out} holds the seed table of another recipe "
                                     f"(train.py {theirs}); give the same train.py "
                                     "arguments, or choose a new --out")
            return previous if previous["train_args"] == self.train_args else None
        held = [n for n in run_dir_entries(self.out)
                if n not in (LOGS, TABLE_MD) and not re.fullmatch(r"seed-\d+", n)]
        if held:
            raise SeedTableError(f"{self.out} is not empty and holds no {TABLE_JSON} "
                                 f"({', '.join(held[:4])}); choose a new --out")
        return None

    def _check_runs(self) -> None:
        """Every started seed must be a run of one config, with its own seed: a table
        mixes no recipes (the total of epochs aside, which --resume may raise)."""
        first = None
        for seed in self.seeds:
            if self.states[seed] == "new":
                continue
            path = os.path.join(self.run_dir(seed), RUN_INFO)
            config = dict((_read_json(path) or {}).get("config") or {})
            if not config:
                continue        # no run.json: train.py --resume says what is wrong
            if config.get("seed") != seed:
                raise SeedTableError(f"{path}: a run of seed {config.get('seed')}, not {seed}")
            config.pop("seed")
            config.pop("epochs", None)
            if first is None:
                first = (path, config)
                continue
            for key in sorted(set(config) | set(first[1])):
                if config.get(key) != first[1].get(key):
                    raise SeedTableError(
                        f"{path}: another recipe than {first[0]} ({key} "
                        f"{config.get(key)!r} vs {first[1].get(key)!r}); choose a new --out")

    def _any_run_started(self) -> bool:
        try:
            return any(re.fullmatch(r"seed-\d+", n) and run_dir_entries(os.path.join(self.out, n))
                       for n in run_dir_entries(self.out))
        except ValueError:      # a seed-K that is a file: not ours to replace
            return True

    # -- running -------------------------------------------------------------------------
    def _env(self) -> dict:
        env = dict(os.environ)
        if self.blas_threads and not any(v in os.environ for v in BLAS_THREAD_VARS):
            env.update({v: str(self.blas_threads) for v in BLAS_THREAD_VARS})
        env["PYTHONUNBUFFERED"] = "1"       # the log shows each epoch as it ends
        return env

    def _start(self, seed: int) -> subprocess.Popen:
        run_dir = self.run_dir(seed)
        if self.states[seed] == "resume":
            args = ["--resume", run_dir]
            # --data-dir is not part of a run's settings: pass it on to the resumed run.
            for i, a in enumerate(self.train_args):
                if a == "--data-dir" and i + 1 < len(self.train_args):
                    args += [a, self.train_args[i + 1]]
                elif a.startswith("--data-dir="):
                    args.append(a)
        else:
            args = self.train_args + ["--seed", str(seed), "--out", run_dir]
        args.append("--no-progress")
        os.makedirs(os.path.dirname(self.log_path(seed)), exist_ok=True)
        log = open(self.log_path(seed), "a", encoding="utf-8")
        cmd = self.train_command + args
        log.write(f"== {time.strftime('%Y-%m-%d %H:%M:%S')}: "
                  f"{' '.join(shlex.quote(c) for c in cmd)}\n")
        log.flush()
        # A session of its own: Ctrl-C reaches the table, which passes it on once.
        with _interruptible_children():
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                    env=self._env(), start_new_session=True)
        log.close()
        return proc

    def _last_error(self, seed: int) -> str:
        try:
            with open(self.log_path(seed), encoding="utf-8", errors="replace") as f:
                lines = [line.strip() for line in f if "error:" in line]
        except OSError:
            return ""
        return lines[-1] if lines else ""

    def _epochs(self, seed: int) -> tuple[int, int | None]:
        """(epochs logged, the run's total) of a seed, from its run directory."""
        run_dir = self.run_dir(seed)
        summary = _read_json(os.path.join(run_dir, SUMMARY)) if self.states[seed] == "done" \
            else None
        if summary:
            return summary["epochs"], summary["epochs"]
        info = _read_json(os.path.join(run_dir, RUN_INFO)) or {}
        return _epochs_logged(run_dir), (info.get("config") or {}).get("epochs")

    def run(self) -> dict:
        """Train every seed not yet finished; returns the table (also written to disk).

        A KeyboardInterrupt stops every run (each keeps its last checkpoint), writes the
        table and is raised again.
        """
        t0 = time.perf_counter()
        pending = [s for s in self.seeds if self.states[s] != "done"]
        running: dict[int, subprocess.Popen] = {}
        os.makedirs(self.out, exist_ok=True)
        self.write()
        bar = tqdm(total=None, unit="epoch", disable=not self.progress, dynamic_ncols=True,
                   mininterval=0.5, desc=f"seeds 0/{len(self.seeds)} done")
        for s in self.seeds:
            if self.states[s] == "done":
                bar.write(self._done_line(s, "already finished"))
        try:
            while pending or running:
                while pending and len(running) < self.jobs and self.usage_error is None:
                    seed = pending.pop(0)
                    verb = "resuming" if self.states[seed] == "resume" else "starting"
                    bar.write(f"seed {seed}: {verb} ({self.log_path(seed)})")
                    running[seed] = self._start(seed)
                for seed, proc in list(running.items()):
                    code = proc.poll()
                    if code is not None:
                        del running[seed]
                        self._finished(seed, code, bar)
                if self.usage_error is not None:
                    pending.clear()
                    self._stop(running)
                    running.clear()
                self._show(bar)
                if running:
                    time.sleep(0.5)
        except KeyboardInterrupt:
            self._stop(running)
            raise
        finally:
            bar.close()
            self.wall_s = time.perf_counter() - t0
            table = self.write()
        if self.usage_error is not None:
            raise SeedTableError(self.usage_error)
        return table

    def _finished(self, seed: int, code: int, bar) -> None:
        self.exit_codes[seed] = code
        state = seed_state(self.run_dir(seed))
        self.states[seed] = state
        if code == 0 and state == "done":
            bar.write(self._done_line(seed, "finished"))
        elif code == TRAIN_USAGE:
            said = self._last_error(seed).split("error: ", 1)[-1].removesuffix(" (see --help)")
            self.usage_error = f"train.py rejects the recipe: {said or 'exit code 2'}"
        else:
            what = "diverged" if code == TRAIN_DIVERGED else f"failed (exit code {code})"
            bar.write(f"seed {seed}: {what}: {self._last_error(seed)} "
                      f"(see {self.log_path(seed)})")

    def _done_line(self, seed: int, verb: str) -> str:
        s = _read_json(os.path.join(self.run_dir(seed), SUMMARY)) or {}
        err = s.get("test_error")
        return (f"seed {seed}: {verb}, test error "
                + (_pct(err) if err is not None else "?")
                + f" after {s.get('epochs')} epochs ({s.get('train_wall_s', 0):.0f} s)")

    def _stop(self, running: dict) -> None:
        """Ctrl-C for each run (each keeps its last checkpoint), then wait for them; a
        second interrupt, or a run still going after STOP_WAIT_S, kills them (every file
        of a run is written atomically, so this too keeps the last checkpoint)."""
        for proc in running.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        try:
            deadline = time.monotonic() + STOP_WAIT_S
            for proc in running.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
        finally:
            for seed, proc in running.items():
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                self.states[seed] = seed_state(self.run_dir(seed))

    def _show(self, bar) -> None:
        counts = [self._epochs(s) for s in self.seeds]
        known = [total for _, total in counts if total]
        guess = max(known) if known else None
        done = sum(n for n, _ in counts)
        total = sum(t or guess or 0 for _, t in counts) or None
        if bar.total != total:
            bar.total = total
        bar.n = done
        finished = sum(self.states[s] == "done" for s in self.seeds)
        bar.set_description_str(f"seeds {finished}/{len(self.seeds)} done", refresh=False)
        bar.refresh()

    # -- the table -----------------------------------------------------------------------
    def rows(self) -> list[dict]:
        rows = []
        for seed in self.seeds:
            run_dir = self.run_dir(seed)
            row = {"seed": seed, "run_dir": seed_dir_name(seed)}
            if self.states[seed] == "done":
                s = _read_json(os.path.join(run_dir, SUMMARY)) or {}
                info = _read_json(os.path.join(run_dir, RUN_INFO)) or {}
                row.update(status="done", test_error=s.get("test_error"),
                           test_n=s.get("test_n"), epochs=s.get("epochs"),
                           train_wall_s=s.get("train_wall_s"), commit=s.get("commit"),
                           environment=s.get("environment") or info.get("environment"))
            else:
                code = self.exit_codes.get(seed)
                status = ("diverged" if code == TRAIN_DIVERGED else
                          "failed" if code not in (None, 0, 130, -signal.SIGINT) else
                          "unfinished")
                row.update(status=status, epochs_done=self._epochs(seed)[0])
                if status == "failed":
                    row["exit_code"] = code
            rows.append(row)
        return rows

    def table(self) -> dict:
        rows = self.rows()
        done = [r for r in rows if r["status"] == "done"]
        envs = [r["environment"] for r in done if r.get("environment")] + [
            (_read_json(os.path.join(self.run_dir(s), RUN_INFO)) or {}).get("environment")
            for s in self.seeds if self.states[s] == "resume"]
        reference = next((e for e in envs if e), None) or environment()
        for r in done:
            diff = build_differences(reference, r.get("environment"))
            if diff:
                r["environment_differs"] = "; ".join(diff)
        errors = [r["test_error"] for r in done if r.get("test_error") is not None]
        previous = self.previous or {}
        return {
            "name": os.path.basename(os.path.normpath(self.out)),
            "train_args": self.train_args,
            "seeds": self.seeds,
            "seeds_text": self.seeds_text,
            "rows": rows,
            "summary": summarize(errors),
            "median_seed": median_seed(rows),
            "train_wall_s": sum(r.get("train_wall_s") or 0 for r in done),
            "wall_s": previous.get("wall_s", 0.0) + self.wall_s,
            **self._session(previous),
            "environment": reference,
            "commit": git_commit(),
            "command": self.command,
            "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }

    def _session(self, previous: dict) -> dict:
        """How the seeds were run: this session's jobs and BLAS threads, or, when it
        trains nothing, those of the session before."""
        if not self.trains and "jobs" in previous:
            return {"jobs": previous["jobs"], "blas_threads": previous.get("blas_threads")}
        threads = os.environ.get(BLAS_THREAD_VARS[0], "")
        return {"jobs": self.jobs,
                "blas_threads": int(threads) if threads.isdigit() else self.blas_threads}

    def write(self) -> dict:
        """seeds.json and seeds.md, each written atomically; returns the table."""
        table = self.table()
        write_text(os.path.join(self.out, TABLE_JSON), json.dumps(table, indent=2) + "\n")
        write_text(os.path.join(self.out, TABLE_MD), markdown(table))
        return table
