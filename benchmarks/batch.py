"""Measure ``frankly batch`` (issue 8): one process, the local pool and Spark local[N].

    python benchmarks/batch.py --data ../shared/data [--quick] [--models fast,accurate]
                               [--engines one,one-1t,pool,spark] [--results benchmarks/RESULTS.md]
                               [--json F]

Each measurement is a fresh ``python -m frankly batch --input T.csv --output DIR --model M
--json`` process on a CSV of ``id,text`` rows (TweetEval texts repeated to the size wanted,
written to a temporary folder and deleted after), timed wall-clock from start to exit,
while a sampler sums the resident memory (RSS) of the process and all its descendants
(pool workers; Spark's JVM and its Python workers) every ``SAMPLE_S`` seconds and keeps
the peak. Engines:

- ``one``: ``--workers 1``, the driver scores the rows itself; the transformer uses its
  default onnxruntime threads (what ``frankly analyze`` does);
- ``one-1t``: the same with ``FRANKLY_THREADS=1`` (accurate only; a single-threaded
  process is the baseline a pool of single-threaded workers multiplies);
- ``pool``: ``--workers N`` (N = the cores), one thread per worker;
- ``spark``: ``--engine spark --master local[N]``.

Rates are end to end (rows / wall seconds, start-up included); the start-up of each
engine (interpreter, model loading, the JVM) is measured with a 64-row run and shown
beside it, with the rate after it. The fast model is measured at ``--rows-fast`` and at
``--rows-memory`` rows to compare peak memory. Prints Markdown; ``--results`` also puts
it in place of RESULTS.md's "## Batch" section. A full run takes about an hour on 2 cores.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from render import _table, put_section  # noqa: E402
from run import _command, _cpu_model, _git, _version  # noqa: E402

# Issue 8's targets on 2 cores.
POOL_SPEEDUP = 1.7        # the local pool vs one process
SPARK_SHARE = 0.8         # Spark local[N] vs the local pool
MEMORY_GROWTH = 1.10      # peak memory at the large size vs the small: "the same", 10% slack
SAMPLE_S = 0.1
STARTUP_ROWS = 64
FULL = {"fast": 1_000_000, "accurate": 100_000, "memory": 100_000}
QUICK = {"fast": 20_000, "accurate": 1_000, "memory": 5_000}
ENGINES = ("one", "one-1t", "pool", "spark")
FALLBACK_TEXTS = (
    "The delivery was late but support fixed it fast, thanks!",
    "Worst app update ever, it crashes every time I open it",
    "Package arrived today.",
    "I love the new menu, the staff were lovely and the price was fair",
    "Billing charged me twice and nobody answers my emails",
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_avg() -> float:
    return os.getloadavg()[0]


def read_texts(data: Path | None) -> tuple[list[str], str]:
    files = sorted((data / "tweeteval-sentiment").glob("*_text.txt")) if data else []
    texts = [t for f in files for t in f.read_text(encoding="utf-8").splitlines() if t.strip()]
    if texts:
        mean = sum(map(len, texts)) / len(texts)
        names = ", ".join(f.name for f in files)
        return texts, (f"TweetEval {names} ({len(texts):,} tweets, {mean:.0f} characters on "
                       f"average), repeated in order")
    return list(FALLBACK_TEXTS), f"{len(FALLBACK_TEXTS)} built-in sentences, repeated"


def write_input(path: Path, texts: list[str], rows: int) -> Path:
    """``rows`` rows of id,text, streamed (the file, not memory, holds them)."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        for i in range(rows):
            w.writerow([i, texts[i % len(texts)]])
    return path


class TreeSampler:
    """Samples a process and its descendants in a thread: the peak of their summed RSS,
    and the CPU time of each (user + system, the last value seen per process: a process
    loses at most one interval's CPU when it exits between samples)."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.root = psutil.Process(pid)
        self.peak = 0
        self.processes = 0
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                tree = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                return
            total = 0
            for p in tree:
                try:
                    total += p.memory_info().rss
                    t = p.cpu_times()
                    self.cpu[p.pid] = t.user + t.system
                except psutil.Error:
                    pass
            if total > self.peak:
                self.peak, self.processes = total, len(tree)
            self._stop.wait(SAMPLE_S)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


SPARK_CONF: list[str] = []  # --spark-conf settings passed to the spark engine
# None by default: the product's own (frankly batch caps a local master's JVM heap at
# 512 MB, frankly.batch.spark.LOCAL_DRIVER_MEMORY, and takes it at start, so its peak
# memory is the same at every size).
DEFAULT_SPARK_CONF: list[str] = []


def engine_args(engine: str, cores: int) -> tuple[list[str], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if k != "FRANKLY_THREADS"}
    if engine == "one":
        return ["--workers", "1"], env
    if engine == "one-1t":
        return ["--workers", "1"], {**env, "FRANKLY_THREADS": "1"}
    if engine == "pool":
        return ["--workers", str(cores)], env
    conf = [a for kv in SPARK_CONF for a in ("--spark-conf", kv)]
    return ["--engine", "spark", "--master", f"local[{cores}]", *conf], env


def measure(source: Path, rows: int, model: str, engine: str, cores: int,
            folder: Path) -> dict[str, Any]:
    """One ``frankly batch`` run in a fresh process: wall time, peak memory, its report."""
    out = Path(tempfile.mkdtemp(prefix=f"out-{model}-{engine}-", dir=folder))
    args, env = engine_args(engine, cores)
    argv = [sys.executable, "-m", "frankly", "batch", "--input", str(source), "--output",
            str(out / "scored"), "--model", model, "--no-progress", "--json", *args]
    load = load_avg()
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            text=True)
    memory = TreeSampler(proc.pid)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - start
    memory.stop()
    subprocess.run(["rm", "-rf", str(out)], check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"frankly batch failed ({proc.returncode}): {stderr[-1500:]}")
    report = json.loads(stdout.strip().splitlines()[-1])
    if report["summary"]["n"] != rows:
        raise RuntimeError(f"{report['summary']['n']} rows written, {rows} expected")
    return {"rows": rows, "wall_s": wall, "rate": rows / wall, "peak_mb": memory.peak / 2**20,
            "processes": memory.processes, "cpu_s": sum(memory.cpu.values()),
            "load_before": load,
            "job_s": report["seconds"], "parts": report["summary"]["parts"]}


def run_all(args: argparse.Namespace, sizes: dict[str, int], texts: list[str],
            folder: Path) -> dict[str, Any]:
    cores = args.cores
    runs: dict[str, Any] = {}
    failures: list[str] = []
    inputs: dict[int, Path] = {}

    def source(rows: int) -> Path:
        if rows not in inputs:
            log(f"writing {rows:,} rows ...")
            inputs[rows] = write_input(folder / f"texts-{rows}.csv", texts, rows)
        return inputs[rows]

    plan = []
    for model in args.models:
        for engine in args.engines:
            if engine == "one-1t" and model != "accurate":
                continue
            plan.append((model, engine, STARTUP_ROWS, "startup"))
            plan.append((model, engine, sizes[model], "main"))
            if model == "fast" and sizes["memory"] != sizes["fast"]:
                plan.append((model, engine, sizes["memory"], "memory"))
    for model, engine, rows, kind in plan:
        key = f"{model}/{engine}/{kind}"
        log(f"{key}: {rows:,} rows (load average {load_avg():.2f}) ...")
        try:
            got = measure(source(rows), rows, model, engine, cores, folder)
        except Exception as exc:  # report it, go on
            failures.append(f"{key}: {type(exc).__name__}: {exc}")
            log(f"  FAILED: {exc}")
            continue
        runs[key] = got
        log(f"  {got['wall_s']:.1f} s, {got['rate']:,.0f} rows/s, peak {got['peak_mb']:,.0f} MB")
    return {"runs": runs, "failures": failures}


def keep(results: dict[str, Any], earlier: dict[str, Any]) -> None:
    """Add ``earlier``'s rows of the models ``results`` did not measure (``--keep``)."""
    s, old = results["settings"], earlier["settings"]
    kept = [m for m in old["models"] if m not in s["models"]]
    for key, run in earlier["runs"].items():
        if key.split("/")[0] in kept:
            results["runs"][key] = run
    s["models"] = [m for m in ("fast", "accurate") if m in s["models"] or m in kept]
    s["engines"] = [e for e in ENGINES if e in s["engines"] or e in old["engines"]]
    s["sizes"] = {**old["sizes"], **{k: v for k, v in s["sizes"].items() if k != "accurate"
                                     or "accurate" not in kept}}
    m = earlier["meta"]
    results["meta"]["kept"] = {"models": kept, "date": m["date"], "git": m["git"],
                               "load_start": m["load_start"], "load_end": m["load_end"],
                               "versions": m["versions"]}
    results["failures"] += [f for f in earlier["failures"] if f.split("/")[0] in kept]


def targets(results: dict[str, Any]) -> list[dict[str, str]]:
    runs, s = results["runs"], results["settings"]
    rows: list[dict[str, str]] = []

    def add(name: str, goal: str, value: float | None, ok: bool | None, shown: str) -> None:
        status = "n/a" if ok is None else ("QUICK" if s["quick"] else ("PASS" if ok else "FAIL"))
        rows.append({"target": name, "goal": goal, "measured": shown if value is not None
                     else "not measured", "status": status})

    for model in s["models"]:
        one, pool, spark = (runs.get(f"{model}/{e}/main") for e in ("one", "pool", "spark"))
        if one and pool:
            x = pool["rate"] / one["rate"]
            add(f"{model}: local pool vs one process", f">= {POOL_SPEEDUP}x", x,
                x >= POOL_SPEEDUP, f"{x:.2f}x ({pool['rate']:,.0f} vs {one['rate']:,.0f} rows/s)")
        single = runs.get(f"{model}/one-1t/main")
        if single and pool:
            x = pool["rate"] / single["rate"]
            add(f"{model}: local pool vs one single-threaded process", "(shown)", x, None,
                f"{x:.2f}x ({pool['rate']:,.0f} vs {single['rate']:,.0f} rows/s)")
        if spark and pool:
            x = spark["rate"] / pool["rate"]
            add(f"{model}: Spark local[{s['cores']}] vs local pool", f">= {SPARK_SHARE:.0%}", x,
                x >= SPARK_SHARE, f"{x:.0%} ({spark['rate']:,.0f} vs {pool['rate']:,.0f} rows/s)")
    for engine in s["engines"]:
        big, small = runs.get(f"fast/{engine}/main"), runs.get(f"fast/{engine}/memory")
        if big and small:
            x = big["peak_mb"] / small["peak_mb"]
            add(f"fast, {engine}: peak memory at {big['rows']:,} vs {small['rows']:,} rows",
                f"the same (<= {MEMORY_GROWTH:.2f}x)", x, x <= MEMORY_GROWTH,
                f"{x:.2f}x ({big['peak_mb']:,.0f} vs {small['peak_mb']:,.0f} MB)")
    return rows


ENGINE_NAMES = {"one": "one process", "one-1t": "one process, 1 thread",
                "pool": "local pool", "spark": "Spark local[{cores}]"}


def markdown(results: dict[str, Any]) -> str:
    m, s, runs = results["meta"], results["settings"], results["runs"]
    out = ["## Batch (frankly batch: one process, local pool, Spark)", ""]
    if s["quick"]:
        out += ["> **Quick run** (`--quick`: small inputs, start-up weighs heavily): not a "
                "check of the targets.", ""]
    out += [f"Issue 8. Each row is a fresh `python -m frankly batch --input T.csv --output DIR "
            f"--model M --json` process on a CSV of id,text rows, timed from start to exit "
            f"(start-up included); peak memory is the summed RSS of the process and all its "
            f"descendants (pool workers; Spark's JVM and Python workers), sampled every "
            f"{SAMPLE_S:g} s (pages shared between processes count once per process). "
            f"Analyzer defaults (evidence, sentences, urgency, aspects on). One process: "
            f"`--workers 1` (the transformer with its default onnxruntime threads); local pool: "
            f"`--workers {s['cores']}`, one thread per worker; Spark: `--engine spark --master "
            f"local[{s['cores']}]"
            + "".join(f" --spark-conf {kv}" for kv in m.get("spark_conf", []))
            + f"`. Start-up: the same command on {STARTUP_ROWS} rows.", "",
            f"- Date: {m['date']}; {m['cpu']}, {m['cores']} cores; 1-minute load average "
            f"**{m['load_start']:.2f} at start, {m['load_end']:.2f} at end** (above about 0.5 "
            f"another process shared the CPU and the numbers are understated); whole run "
            f"{m['seconds']:.0f} s",
            f"- Reproduce (from the repository root): `{m['command']}`",
            f"- git {m['git']}; Python {m['python']}, pyspark {m['versions']['pyspark']}, "
            f"pyarrow {m['versions']['pyarrow']}, onnxruntime {m['versions']['onnxruntime']}",
            f"- Texts: {m['texts']}"]
    if m.get("kept"):
        k = m["kept"]
        out += [f"- Rows of {', '.join(k['models'])}: from an earlier run ({k['date']}, git "
                f"{k['git']}, frankly {k['versions'].get('frankly')}; load average "
                f"{k['load_start']:.2f} at start, {k['load_end']:.2f} at end), kept with "
                f"`--keep`; the rest from this run (frankly {m['versions'].get('frankly')})"]
    out += [""]
    out += _table(["Target", "Goal", "Measured", "Status"],
                  [[t["target"], t["goal"], t["measured"], f"**{t['status']}**"]
                   for t in results["targets"]], "lllc")
    out += ["", "### Runs", ""]
    rows = []
    for model in s["models"]:
        base = runs.get(f"{model}/one/main")
        for engine in s["engines"]:
            for kind in ("main", "memory"):
                r = runs.get(f"{model}/{engine}/{kind}")
                if not r:
                    continue
                start = runs.get(f"{model}/{engine}/startup")
                after = (f"{(r['rows'] - STARTUP_ROWS) / (r['wall_s'] - start['wall_s']):,.0f}"
                         if start and r["wall_s"] > start["wall_s"] else "-")
                rows.append([model, ENGINE_NAMES[engine].format(cores=s["cores"]),
                             f"{r['rows']:,}", f"{r['wall_s']:,.1f}", f"{r['rate']:,.0f}",
                             f"{r['rate'] / base['rate']:.2f}x" if base else "-",
                             f"{start['wall_s']:.1f}" if start else "-", after,
                             f"{r['cpu_s']:,.1f}", f"{r['cpu_s'] / r['wall_s']:.2f}",
                             f"{r['rows'] / r['cpu_s']:,.0f}",
                             f"{r['peak_mb']:,.0f}", str(r["processes"]), str(r["parts"]),
                             f"{r['load_before']:.2f}"])
    out += _table(["Model", "Engine", "Rows", "Wall s", "Rows/s", "vs one process",
                   "Start-up s", "Rows/s after start-up", "CPU s (tree)", "Cores busy",
                   "Rows per CPU s", "Peak MB (tree)", "Processes", "Parts",
                   "Load avg before"], rows, "llrrrrrrrrrrrrr")
    out += ["", f"Rows/s after start-up: (rows - {STARTUP_ROWS}) / (wall - the "
            f"{STARTUP_ROWS}-row run's wall): the rate once every process has its model. "
            "CPU s: user + system time of every process of the tree (the JVM's included); "
            "unlike the rates it hardly moves with other load on the machine, so rows per "
            "CPU second compares the engines' overheads when the load average is high. Cores "
            "busy: CPU s / wall s. The accurate model's one process keeps close to two cores "
            "busy by itself (onnxruntime's intra-op threads), so on 2 cores a pool has little "
            "left to add over it; "
            + ("the single-threaded row is the baseline a pool of single-threaded workers "
               "multiplies." if any("/one-1t/" in k for k in runs) else
               "`--engines one-1t` measures the single-threaded process that a pool of "
               "single-threaded workers multiplies (not run here).")]
    if results["failures"]:
        out += ["", "### Failures", ""] + [f"- {f}" for f in results["failures"]]
    return "\n".join(out) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Measure frankly batch (issue 8).")
    p.add_argument("--data", type=Path, default=Path("../shared/data"),
                   help="folder with tweeteval-sentiment/*_text.txt (the texts)")
    p.add_argument("--models", default="fast,accurate", help="default: %(default)s")
    p.add_argument("--engines", default=",".join(ENGINES), help="default: %(default)s")
    p.add_argument("--quick", action="store_true",
                   help=f"small inputs ({QUICK['fast']:,} fast, {QUICK['accurate']:,} "
                        f"accurate, memory compared at {QUICK['memory']:,}): not a target check")
    p.add_argument("--rows-fast", type=int, help=f"default: {FULL['fast']:,}")
    p.add_argument("--rows-accurate", type=int, help=f"default: {FULL['accurate']:,}")
    p.add_argument("--rows-memory", type=int,
                   help=f"the fast model's second size (default: {FULL['memory']:,})")
    p.add_argument("--cores", type=int, default=os.cpu_count() or 1,
                   help="pool workers and Spark local[N] (default: the cores)")
    p.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE",
                   help="a setting for the spark engine's session (frankly batch "
                        "--spark-conf; default: "
                        + (" ".join(DEFAULT_SPARK_CONF) or "none, the product's own") + ")")
    p.add_argument("--results", type=Path,
                   help="also write the section into this RESULTS.md (replacing its own)")
    p.add_argument("--json", type=Path, help="write every raw number to this file")
    p.add_argument("--keep", type=Path, metavar="JSON",
                   help="an earlier run's --json: its rows of the models this run does not "
                        "measure join this run's (the section says which run each came from)")
    args = p.parse_args(argv)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for engine in args.engines:
        if engine not in ENGINES:
            p.error(f"unknown engine {engine!r}: use {', '.join(ENGINES)}")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    args = parse_args(argv[1:])
    SPARK_CONF[:] = args.spark_conf or DEFAULT_SPARK_CONF
    sizes = dict(QUICK if args.quick else FULL)
    for key in ("fast", "accurate", "memory"):
        if getattr(args, f"rows_{key}"):
            sizes[key] = getattr(args, f"rows_{key}")
    started, load_start = time.perf_counter(), load_avg()
    texts, texts_note = read_texts(args.data)
    meta = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "cpu": _cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
            "versions": {d: _version(d) for d in ("frankly", "pyspark", "pyarrow",
                                                  "onnxruntime", "pandas")},
            "git": _git(), "command": _command(argv), "texts": texts_note,
            "load_start": load_start, "spark_conf": list(SPARK_CONF)}
    with tempfile.TemporaryDirectory(prefix="frankly-batch-bench-") as tmp:
        got = run_all(args, sizes, texts, Path(tmp))
    meta["load_end"] = load_avg()
    meta["seconds"] = time.perf_counter() - started
    results = {"meta": meta, "settings": {"quick": args.quick, "sizes": sizes,
                                          "models": args.models, "engines": args.engines,
                                          "cores": args.cores}, **got}
    if args.keep:
        keep(results, json.loads(args.keep.read_text(encoding="utf-8")))
    results["targets"] = targets(results)
    text = markdown(results)
    print(text, end="")
    if args.results:
        put_section(args.results, "Batch", text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 1 if results["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
