"""``frankly batch`` on the local engine: folders of parts, a process pool, resuming after
a kill (SIGKILL included) with every input row exactly once."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from frankly.batch.jobdir import JobConflict, part_name  # noqa: E402
from frankly.batch.local import auto_chunk_rows, resolve_inputs, run_local  # noqa: E402
from frankly.batch.spec import AnalyzerSpec  # noqa: E402
from frankly.cli.main import main  # noqa: E402

SAMPLE = Path(__file__).parent / "data" / "feedback_sample.csv"
FAST = AnalyzerSpec("fast")


def sample_texts() -> list[str]:
    with open(SAMPLE, encoding="utf-8", newline="") as fh:
        return [row["text"] for row in csv.DictReader(fh)]


def write_csv(path: Path, n: int, start: int = 0) -> Path:
    """``n`` rows: id, text (our sample texts in turn, one empty), label (a clash)."""
    texts = sample_texts()
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "label"])
        for i in range(start, start + n):
            w.writerow([i, "" if i == start + 3 else texts[i % len(texts)], "gold"])
    return path


def read_output(folder: Path) -> list[dict]:
    """Every row of the output folder, parts in name order (as pyarrow reads a folder)."""
    return pq.read_table(folder).to_pylist()


def test_pool_writes_every_row_once_with_the_columns_of_analyze(tmp_path, capsys):
    src = write_csv(tmp_path / "in.csv", 700)
    report = run_local([src], tmp_path / "out", FAST, workers=2, chunk_rows=128)
    assert (report.summary.n, report.summary.parts, report.rows_this_run) == (700, 6, 700)
    rows = read_output(tmp_path / "out")
    assert [int(r["id"]) for r in rows] == list(range(700))  # once each, in input order

    # The same columns, types and values as `frankly analyze --output x.parquet`.
    assert main(["analyze", "-m", "fast", "-i", str(src), "-o", str(tmp_path / "one.parquet")]) == 0
    capsys.readouterr()
    one = pq.read_table(tmp_path / "one.parquet")
    assert pq.read_table(tmp_path / "out").schema.remove_metadata() == one.schema.remove_metadata()
    assert rows == one.to_pylist()
    assert rows[0]["label"] == "gold" and rows[0]["frankly_label"] in ("positive", "negative",
                                                                      "neutral", "mixed")
    counts = {}
    for r in rows:
        counts[r["frankly_label"]] = counts.get(r["frankly_label"], 0) + 1
    assert {k: v for k, v in report.summary.counts.items() if v} == counts
    assert report.summary.urgent == sum(r["urgent"] for r in rows)
    saved = json.loads((tmp_path / "out" / "_frankly_summary.json").read_text())
    assert saved["n"] == 700 and (tmp_path / "out" / "_SUCCESS").exists()


def test_folder_of_mixed_formats_and_failed_rows_named(tmp_path):
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    write_csv(data / "a.csv", 5)
    with open(data / "sub" / "b.jsonl", "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"text": "Refund took three weeks", "n": 1}) + "\n")
        fh.write(json.dumps({"n": 2}) + "\n")                       # no text: fails
        fh.write(json.dumps({"text": "Lovely staff", "n": 3}) + "\n")
    pq.write_table(pa.table({"text": ["Great app", None], "stars": [5, 1]}), data / "c.parquet")
    (data / ".hidden.csv").write_text("text\nnot me\n")
    (data / "notes.txt").write_text("not a table")
    found = resolve_inputs(data)
    assert [p.name for p in found] == ["a.csv", "c.parquet", "b.jsonl"]

    report = run_local(found, data / "out", FAST, workers=1)
    assert report.summary.n == 5 + 3 + 2
    assert report.summary.errors == 2
    assert sorted((Path(s).name, w, r.split(",")[0]) for s, w, r in report.summary.failed) == [
        ("b.jsonl", "line 2", "expected a str"), ("c.parquet", "row 2", "expected a str")]
    # The output folder inside the input folder is never read as input.
    assert [p.name for p in resolve_inputs(data, exclude=data / "out")] == [p.name for p in found]
    parts = sorted(p.name for p in (data / "out").glob("part-*"))
    assert parts == [part_name(0, 0), part_name(1, 0), part_name(2, 0)]
    jsonl = pq.read_table(data / "out" / part_name(2, 0))
    assert jsonl.schema.field("n").type == pa.int64()                 # JSON numbers stay numbers
    assert pq.read_table(data / "out" / part_name(1, 0)).schema.field("stars").type == pa.int64()


def test_glob_and_missing_inputs(tmp_path):
    write_csv(tmp_path / "x1.csv", 2)
    write_csv(tmp_path / "x2.csv", 2)
    assert [p.name for p in resolve_inputs(str(tmp_path / "x*.csv"))] == ["x1.csv", "x2.csv"]
    with pytest.raises(Exception, match="matches no"):
        resolve_inputs(str(tmp_path / "y*.csv"))
    with pytest.raises(Exception, match="no such file"):
        resolve_inputs(tmp_path / "nope.csv")


def test_resume_writes_only_missing_parts(tmp_path):
    src = write_csv(tmp_path / "in.csv", 600)
    out = tmp_path / "out"
    run_local([src], out, FAST, workers=1, chunk_rows=100)
    before = read_output(out)
    # What a kill leaves: some parts missing, a half-written part, no summary.
    for chunk in (1, 4):
        (out / part_name(0, chunk)).unlink()
    (out / f".{part_name(0, 1)}.123-abcd.tmp").write_bytes(b"PAR1 half")
    (out / "_SUCCESS").unlink()
    report = run_local([src], out, FAST, workers=2, chunk_rows=100)
    assert report.resumed and (report.parts_skipped, report.parts_this_run) == (4, 2)
    assert report.rows_this_run == 200 and report.summary.n == 600
    assert read_output(out) == before
    assert not list(out.glob(".*.tmp"))


def test_a_folder_holding_another_job_or_other_files_is_refused(tmp_path):
    src = write_csv(tmp_path / "in.csv", 10)
    out = tmp_path / "out"
    run_local([src], out, FAST, workers=1)
    with pytest.raises(JobConflict, match=r"explain: True before, False now"):
        run_local([src], out, AnalyzerSpec("fast", explain=False), workers=1)
    with pytest.raises(JobConflict, match="text_column"):
        run_local([src], out, FAST, workers=1, text_column="label")
    other = write_csv(tmp_path / "other.csv", 5)
    with pytest.raises(JobConflict, match=r"other.csv \(new\)"):
        run_local([src, other], out, FAST, workers=1)
    report = run_local([src, other], out, FAST, workers=1, restart=True)
    assert report.summary.n == 15 and not report.resumed

    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "keep.txt").write_text("mine")
    for restart in (False, True):
        with pytest.raises(JobConflict, match="holds no frankly batch job"):
            run_local([src], theirs, FAST, workers=1, restart=restart)
    assert sorted(p.name for p in theirs.iterdir()) == ["keep.txt"]


def test_an_input_edited_since_is_scored_again_and_the_others_kept(tmp_path):
    a, b = write_csv(tmp_path / "a.csv", 300), write_csv(tmp_path / "b.csv", 300, start=300)
    out = tmp_path / "out"
    run_local([a, b], out, FAST, workers=1, chunk_rows=100)
    kept = {p.name: p.stat().st_mtime_ns for p in out.glob("part-00000-*")}
    write_csv(b, 250, start=300)  # b edited: a line fixed, say
    report = run_local([a, b], out, FAST, workers=1, chunk_rows=100)
    assert report.redone == [str(b.resolve())] and report.parts_this_run == 3
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("part-00000-*")} == kept
    assert [int(r["id"]) for r in read_output(out)] == list(range(550))
    assert report.summary.n == 550


def test_a_malformed_line_stops_the_job_keeps_the_work_and_a_fix_resumes_it(tmp_path):
    from frankly.errors import DataError

    data = tmp_path / "data"
    data.mkdir()
    write_csv(data / "a.csv", 600)
    bad = write_csv(data / "b.csv", 300, start=600)
    with open(bad, "a", encoding="utf-8") as fh:
        fh.write("900,too,many,fields\n")
    out = tmp_path / "out"
    with pytest.raises(DataError, match=r"b.csv, line 302: 4 fields"):
        run_local(resolve_inputs(data), out, FAST, workers=2, chunk_rows=100)
    # What was handed out before the bad line was finished, not thrown away.
    assert {p.name for p in out.glob("part-00000-*")} == {part_name(0, k) for k in range(6)}
    write_csv(bad, 300, start=600)  # fixed
    report = run_local(resolve_inputs(data), out, FAST, workers=2, chunk_rows=100)
    assert report.redone == [str(bad.resolve())] and report.parts_skipped == 6
    assert [int(r["id"]) for r in read_output(out)] == list(range(900))


def test_one_job_per_folder_at_a_time(tmp_path):
    from frankly.batch.jobdir import JobDir

    src = write_csv(tmp_path / "in.csv", 10)
    with JobDir(tmp_path / "out"):
        with pytest.raises(JobConflict, match="another frankly batch is writing"):
            run_local([src], tmp_path / "out", FAST, workers=1)


def test_auto_chunk_rows_depends_on_the_input_alone():
    assert auto_chunk_rows(0) == 256
    assert auto_chunk_rows(10_000) == 768
    assert auto_chunk_rows(100_000) == auto_chunk_rows(10_000_000) == 4096


def test_cli_summary_progress_and_json(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps({"body": t}) for t in
                             ["Charged twice and nobody answers, I need this fixed today",
                              "Lovely staff", None]) + "\n")
    code = main(["batch", "-i", str(src), "-o", str(tmp_path / "out"), "-m", "fast",
                 "-t", "body", "--progress", "-w", "1"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "wrote 3 rows in 1 parts" in out and "3 texts (frankly-fast" in out
    assert "urgent" in out and "failed rows (1; all shown):" in out
    assert f"{src}, line 3: expected a str, got NoneType None" in out
    assert "scoring" in err and "rows" in err  # the bar, on stderr
    code = main(["batch", "-i", str(src), "-o", str(tmp_path / "out"), "-m", "fast",
                 "-t", "body", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["resumed"] and report["rows_this_run"] == 0
    assert report["summary"]["n"] == 3 and report["summary"]["errors"] == 1


@pytest.mark.parametrize("argv, needle", [
    (["--engine", "spark", "-w", "2"], "--workers and --chunk-rows are for --engine local"),
    (["--master", "local[2]"], "--master is for --engine spark"),
    (["--spark-conf", "spark.driver.memory=1g"], "--spark-conf is for --engine spark"),
    (["--engine", "spark", "--spark-conf", "spark.driver.memory"], "expected KEY=VALUE"),
    (["--subject-kind", "employee"], "Refused for employees"),
    (["-t", "body"], "has no column 'body'"),
])
def test_cli_mistakes_are_one_line(tmp_path, capsys, argv, needle):
    src = write_csv(tmp_path / "in.csv", 3)
    code = main(["batch", "-i", str(src), "-o", str(tmp_path / "out"), "-m", "fast", *argv])
    err = capsys.readouterr().err
    assert code != 0 and needle in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


# -- killed jobs ---------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    try:
        psutil = __import__("psutil")
        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except Exception:
        return []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def _gone_soon(pid: int) -> None:
    """A worker (or multiprocessing's resource tracker) exits within seconds."""
    end = time.monotonic() + 15
    while _alive(pid) and time.monotonic() < end:
        time.sleep(0.05)
    assert not _alive(pid), f"process {pid} outlived its driver"


@pytest.mark.slow
def test_ctrl_c_stops_the_workers_and_the_job_resumes(tmp_path):
    """Ctrl-C reaches the whole process group: one line, status 130, no worker left."""
    n = 3000
    src = write_csv(tmp_path / "in.csv", n)
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "frankly", "batch", "-i", str(src), "-o", str(out),
            "-m", "fast", "--workers", "2", "--chunk-rows", "64", "--no-progress"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while not list(out.glob("part-*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    workers = _children(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err.strip() == "frankly: error: interrupted"
    for pid in workers:
        _gone_soon(pid)
    final = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    assert [int(r["id"]) for r in read_output(out)] == list(range(n))


@pytest.mark.slow
def test_sigkill_at_any_moment_then_resume_gives_every_row_once(tmp_path):
    """SIGKILL the driver several times (early, and at several part counts), run the
    same command again each time; the final output holds every input row exactly once,
    and no worker outlives its driver."""
    n = 4000
    src = write_csv(tmp_path / "in.csv", n)
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "frankly", "batch", "-i", str(src), "-o", str(out),
            "-m", "fast", "--workers", "2", "--chunk-rows", "64", "--no-progress"]
    rng = random.Random(8)
    kills = 0
    for parts_wanted in (None, 6, 20, 40):
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        if parts_wanted is None:
            time.sleep(rng.uniform(0.2, 1.5))  # during start-up or the first chunks
        else:
            while (len(list(out.glob("part-*"))) < parts_wanted and proc.poll() is None
                   and time.monotonic() < deadline):
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.05))
        workers = _children(proc.pid)
        if proc.poll() is not None:
            break  # the machine was quicker than the kill: the rest still checks out
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        for pid in workers:  # orphaned workers notice and exit
            _gone_soon(pid)
    assert kills >= 2
    final = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    assert f"{n:,} rows in" in final.stdout
    ids = [int(r["id"]) for r in read_output(out)]
    assert ids == list(range(n))
    assert not list(out.glob(".*.tmp"))
    summary = json.loads((out / "_frankly_summary.json").read_text())
    assert summary["n"] == n and sum(summary["counts"].values()) == n
