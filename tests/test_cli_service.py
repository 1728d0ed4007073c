"""The service's commands (keys, ingest) and the use policy on the command line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy")

from frankly.cli.main import main  # noqa: E402
from frankly.store import ItemQuery, open_store  # noqa: E402


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture()
def db(tmp_path, monkeypatch) -> str:
    monkeypatch.setenv("FRANKLY_HOME", str(tmp_path / "home"))
    return f"sqlite:///{tmp_path / 'frankly.db'}"


def test_keys_create_prints_the_secret_once_and_stores_a_hash(capsys, db, tmp_path):
    code, out, err = run(capsys, "keys", "create", "--name", "support tool", "--scope",
                         "write", "--database-url", db)
    assert code == 0
    secret = out.strip()
    assert secret.startswith("fk_") and "shown only now" in err
    code, out, _ = run(capsys, "keys", "list", "--database-url", db)
    assert "support tool" in out and "write" in out and "active" in out
    assert secret not in out
    assert secret.encode() not in (tmp_path / "frankly.db").read_bytes()
    key_id = out.splitlines()[1].split()[0]
    assert run(capsys, "keys", "revoke", key_id, "--database-url", db)[0] == 0
    assert "revoked" in run(capsys, "keys", "list", "--database-url", db)[1]
    store = open_store(db)
    assert store.find_key(secret) is None
    store.close()


def test_keys_errors_are_one_line(capsys, db):
    code, _, err = run(capsys, "keys", "revoke", "nope", "--database-url", db)
    assert code == 1 and err.startswith("frankly: error:") and "nope" in err
    code, _, err = run(capsys, "keys", "create", "--scope", "root", "--database-url", db)
    assert code == 2


def test_default_database_lives_in_the_frankly_home(capsys, db, tmp_path):
    assert run(capsys, "keys", "create")[0] == 0
    assert (tmp_path / "home" / "frankly.db").exists()


def test_ingest_stores_every_row_once_and_reports_bad_rows(capsys, db, tmp_path):
    rows = [{"id": f"r{i}", "text": t, "when": "2026-11-20T10:00:00Z", "who": f"c{i % 3}"}
            for i, t in enumerate(["Great blender, fast delivery",
                                   "Refund still missing, mail me at al@example.org",
                                   "The app crashes on login"])]
    rows.append({"id": "r9", "text": "fine", "when": "last tuesday", "who": "c1"})
    path = write_csv(tmp_path / "in.csv", rows)
    args = ("ingest", "--input", path, "--model", "fast", "--id-column", "id",
            "--created-column", "when", "--subject-column", "who", "--source", "shop",
            "--database-url", db, "--no-progress")
    code, out, err = run(capsys, *args)
    assert code == 1  # one row failed: said, and the others are stored
    assert "3 stored" in out and "1 failed" in out
    assert "line 5" in err and "ISO 8601" in err
    code, out, _ = run(capsys, *args)
    assert "0 stored" in out and "3 already stored" in out
    store = open_store(db)
    items = store.list_items(ItemQuery(limit=100)).items
    assert sorted(i.id for i in items) == ["r0", "r1", "r2"]
    assert all(i.source == "shop" for i in items)
    assert not any("al@example.org" in (i.text or "") for i in items)
    assert store.export_subject("c1")["items"][0]["id"] == "r1"
    store.close()


def test_employee_texts_give_aggregates_only(capsys, tmp_path):
    many = write_csv(tmp_path / "many.csv", [
        {"text": "The canteen food is bad" if i % 2 else "Great team", "person": f"p{i % 12}"}
        for i in range(24)])
    few = write_csv(tmp_path / "few.csv", [
        {"text": "The canteen food is bad", "person": f"p{i % 4}"} for i in range(24)])
    base = ("analyze", "--model", "fast", "--subject-kind", "employee",
            "--subject-column", "person", "--no-progress", "--input")
    code, out, _ = run(capsys, *base, many)
    assert code == 0 and "12 distinct employees" in out and "24 texts" in out
    assert "canteen" not in out  # no per-text lines
    code, _, err = run(capsys, *base, few)
    assert code == 1 and "4 distinct employees" in err and "Withheld" in err
    code, _, err = run(capsys, *base, many, "--json")
    assert code == 1 and "EU AI Act" in err
    code, _, err = run(capsys, "analyze", "--model", "fast", "--subject-kind", "student",
                       "Great course")
    assert code == 2 and "--subject-column" in err
    code, _, err = run(capsys, "triage", "--subject-kind", "student", "help me")
    assert code == 1 and "students" in err
