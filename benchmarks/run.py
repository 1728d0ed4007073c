"""Benchmark Frankly against VADER and TextBlob in one run; write RESULTS.md and results.json.

    python benchmarks/run.py --data ../shared/data [--systems accurate,fast,vader,textblob]
                             [--limit N] [--out benchmarks/RESULTS.md]

Each system is measured in its own fresh Python process (``run.py --worker SYSTEM``), so
memory figures are that system's alone. See benchmarks/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_SYSTEMS = "accurate,fast,vader,textblob"
PEERS = ("vader", "textblob")
FRANKLY_BUILTIN = ("accurate", "fast")
# Modules `import frankly` must leave unimported (DESIGN.md, "Light import").
HEAVY_MODULES = ("onnxruntime", "torch", "fastapi", "pyarrow", "pyspark")
IMPORT_RUNS = 5
WORKER_TIMEOUT_S = 1200
# Further sections, each its own script run in a fresh process after the systems; their
# Markdown is appended to RESULTS.md (issue 3: probes, documents, language; issue 4: urgency;
# issue 5: aspects; issue 6: the REST service under load; issue 8: batch jobs).
SECTIONS = {
    "probes": ["probes.py"],
    "documents": ["documents.py", "--data", "{data}"],
    "language": ["language.py", "--data", "{data}"],
    "urgency": ["urgency.py", "--data", "{data}"],
    "aspects": ["aspects.py", "--data", "{data}"],
    "service": ["service.py", "--data", "{data}"],
    "batch": ["batch.py", "--data", "{data}"],
}
SECTION_TIMEOUT_S = 7200  # batch.py scores 1,000,000 + 100,000 texts several ways: ~1 hour


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure Frankly against VADER and TextBlob; write RESULTS.md.")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"),
                        help="folder holding the dev corpora (default: ../shared/data)")
    parser.add_argument("--systems", default=DEFAULT_SYSTEMS,
                        help=f"comma-separated: frankly model names or model directories, "
                             f"vader, textblob (default: {DEFAULT_SYSTEMS})")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="use a seeded random N texts of each dev set (quick check; "
                             "the numbers are then not a check of the targets)")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md",
                        help="Markdown report; results.json is written beside it")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed throughput repeats; the median is reported (default: 3)")
    parser.add_argument("--min-time", type=float, default=2.0,
                        help="minimum seconds per throughput timing (default: 2.0)")
    parser.add_argument("--latency-n", type=int, default=300,
                        help="texts timed one at a time for p50/p95 latency (default: 300)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the --limit sample")
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"further sections to run and append, comma-separated, or "
                             f"'none' (default: {','.join(SECTIONS)})")
    parser.add_argument("--worker", metavar="SYSTEM", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 2:
        parser.error("--limit must be at least 2")
    if args.repeats < 1 or args.min_time <= 0 or args.latency_n < 2:
        parser.error("--repeats must be >= 1, --min-time > 0 and --latency-n >= 2")
    if not args.data.is_dir():
        parser.error(f"no data folder at {args.data}: pass --data pointing at shared/data")
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    args.sections = [] if args.sections == "none" else [
        s.strip() for s in args.sections.split(",") if s.strip()]
    for section in args.sections:
        if section not in SECTIONS:
            parser.error(f"unknown section {section!r}: use {', '.join(SECTIONS)} or none")
    for name in args.systems:
        if name not in PEERS + FRANKLY_BUILTIN and not Path(name).is_dir():
            parser.error(f"unknown system {name!r}: use {', '.join(FRANKLY_BUILTIN + PEERS)} "
                         f"or a model directory")
    return args


def worker_main(args: argparse.Namespace) -> int:
    """Measure one system and print its JSON on stdout (anything else printed goes to stderr)."""
    import measure

    stdout, sys.stdout = sys.stdout, sys.stderr
    result = measure.run_worker(args.worker, args.data, args.limit, args.seed, args.min_time,
                                args.repeats, args.latency_n)
    stdout.write(json.dumps(result) + "\n")
    return 0


def run_system(name: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name,
           "--data", str(args.data), "--seed", str(args.seed), "--repeats", str(args.repeats),
           "--min-time", str(args.min_time), "--latency-n", str(args.latency_n)]
    if args.limit is not None:
        cmd += ["--limit", str(args.limit)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["(no output)"]
        return {"system": name, "status": "error", "reason": tail[0],
                "stderr": proc.stderr[-4000:], "wall_s": wall}
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "wall_s": wall}


def run_section(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one section's script; its stdout is the Markdown to append."""
    script, *rest = SECTIONS[name]
    cmd = [sys.executable, str(HERE / script), *(a.format(data=args.data) for a in rest)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=SECTION_TIMEOUT_S)
    wall = time.perf_counter() - start
    if proc.returncode != 0 and not proc.stdout.strip():
        tail = proc.stderr.strip().splitlines()[-1:] or ["(no output)"]
        return {"status": "error", "wall_s": wall,
                "markdown": f"## {name}\n\nThe {script} section failed: {tail[0]}\n"}
    text = proc.stdout.strip()
    if not text.startswith("#"):
        text = f"## {name.capitalize()}\n\n{text}"
    return {"status": "ok" if proc.returncode == 0 else f"exit {proc.returncode}",
            "wall_s": wall, "markdown": text + "\n"}


def _time_python(code: str) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return time.perf_counter() - start, proc.stdout.strip()


def measure_import() -> dict[str, Any]:
    """Median wall time of fresh ``import frankly`` processes minus that of bare ones."""
    check = (f"import frankly, sys; "
             f"print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))")
    bare, full, loaded = [], [], set()
    for _ in range(IMPORT_RUNS):  # interleaved, so drift in machine load hits both alike
        bare.append(_time_python("pass")[0])
        seconds, out = _time_python(check)
        full.append(seconds)
        loaded.update(m for m in out.split(",") if m)
    return {"bare_python_s": bare, "import_frankly_process_s": full,
            "import_frankly_s": statistics.median(full) - statistics.median(bare),
            "heavy_modules_checked": list(HEAVY_MODULES),
            "heavy_modules_loaded": sorted(loaded)}


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=REPO,
                               text=True, capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} (src/ has uncommitted changes)" if dirty else head


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _command(argv: list[str]) -> str:
    script = Path(argv[0])
    try:
        shown = str(script.resolve().relative_to(Path.cwd().resolve()))
        prefix = ""
    except ValueError:
        shown, prefix = str(script), f"cd {shlex.quote(str(Path.cwd()))} && "
    return prefix + shlex.join(["python", shown, *argv[1:]])


def machine_info(argv: list[str]) -> dict[str, Any]:
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "load_average_at_start": os.getloadavg()[0],
        "python": platform.python_version(),
        "versions": {d: _version(d) for d in ("frankly", "onnxruntime", "tokenizers", "numpy",
                                              "vaderSentiment", "textblob")},
        "frankly_threads_env": os.environ.get("FRANKLY_THREADS"),
        "git": _git(),
        "command": _command(argv),
    }


def ratios(systems: dict[str, Any]) -> dict[str, Any]:
    """Frankly vs VADER in the same run: speed ratio and macro-F1 differences per dev set."""
    vader = systems.get("vader")
    if not vader or vader["status"] != "ok":
        return {}
    out: dict[str, Any] = {"speed_vs_vader": {}, "macro_f1_minus_vader": {}}
    for name, system in systems.items():
        if name in PEERS or system["status"] != "ok":
            continue
        out["speed_vs_vader"][name] = (system["throughput"]["texts_per_s"]
                                       / vader["throughput"]["texts_per_s"])
        out["macro_f1_minus_vader"][name] = {
            k: v["macro_f1"] - vader["datasets"][k]["macro_f1"]
            for k, v in system["datasets"].items()}
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    args = parse_args(argv[1:])
    if args.worker:
        return worker_main(args)

    import render
    import targets

    results: dict[str, Any] = {"meta": machine_info(argv), "settings": {
        "systems": args.systems, "limit": args.limit, "seed": args.seed,
        "repeats": args.repeats, "min_time_s": args.min_time, "latency_n": args.latency_n,
        "data": str(args.data)}}
    start = time.perf_counter()
    print("timing import frankly ...", file=sys.stderr, flush=True)
    results["import"] = measure_import()
    results["systems"] = {}
    for i, name in enumerate(args.systems, 1):
        print(f"[{i}/{len(args.systems)}] {name} ...", end=" ", file=sys.stderr, flush=True)
        system = run_system(name, args)
        results["systems"][name] = system
        print(f"{system['status']} in {system['wall_s']:.0f} s"
              + (f": {system['reason']}" if system["status"] != "ok" else ""),
              file=sys.stderr, flush=True)
    results["ratios"] = ratios(results["systems"])
    results["sections"] = {}
    for section in args.sections:
        print(f"section {section} ...", end=" ", file=sys.stderr, flush=True)
        results["sections"][section] = run_section(section, args)
        print(results["sections"][section]["status"], file=sys.stderr, flush=True)
    results["targets"] = targets.check(results)
    results["meta"]["load_average_at_end"] = os.getloadavg()[0]
    results["meta"]["total_s"] = time.perf_counter() - start

    args.out.parent.mkdir(parents=True, exist_ok=True)
    json_path = args.out.with_name("results.json")
    json_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    new = render.markdown(results) + "".join(
        "\n" + section["markdown"] for section in results["sections"].values())
    old = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    args.out.write_text(render.with_other_sections(old, new), encoding="utf-8")
    print(f"wrote {args.out} and {json_path} in {results['meta']['total_s']:.0f} s",
          file=sys.stderr)
    return 1 if any(s["status"] == "error" for s in results["systems"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
