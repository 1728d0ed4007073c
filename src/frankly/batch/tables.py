"""Read and write tables of rows (CSV, JSONL, Parquet) a chunk at a time.

Readers yield :class:`Chunk` objects, so memory stays bounded whatever the file size:
CSV and JSONL are read line by line, Parquet by record batches. Every row keeps its place
in the file (``line 7`` or ``row 7``) so errors can name it. Writers write to a temporary
file next to the target and rename it at the end, so a failure never leaves a
half-written output. pyarrow is imported only when a Parquet file is used.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Sequence

from frankly.errors import DataError, MissingDependencyError

FORMATS = ("csv", "jsonl", "parquet")
EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet",
              ".pq": "parquet"}
# csv refuses fields over 128 KiB by default; a long review or ticket may exceed that.
CSV_FIELD_LIMIT = 1 << 26


@dataclass
class Chunk:
    """Consecutive rows of a table, each with its place in the file (``line 7``)."""

    rows: list[dict[str, Any]]
    where: list[str]


def detect_format(path: str | Path, fmt: str | None = None, option: str = "--format") -> str:
    """``fmt`` if given, else the format the file extension names."""
    if fmt:
        if fmt not in FORMATS:
            raise DataError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        raise DataError(f"cannot tell the format of {path} from its extension: name it "
                        f".csv, .jsonl or .parquet, or pass {option} csv|jsonl|parquet")
    return EXTENSIONS[suffix]


def _pyarrow(action: str) -> tuple[Any, Any]:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as exc:
        raise MissingDependencyError(
            f"{action} Parquet needs pyarrow: pip install 'frankly[parquet]'") from exc
    return pyarrow, pyarrow.parquet


def _open_binary(path: Path) -> IO[bytes]:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise DataError(f"cannot read {path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"cannot read {path}: it is a directory, not a file") from None
    except PermissionError:
        raise DataError(f"cannot read {path}: permission denied") from None


def utf8_lines(lines: Iterable[bytes], name: str) -> Iterator[str]:
    """Decode ``lines`` as UTF-8 (a leading BOM is dropped), naming the line of a bad byte."""
    for n, raw in enumerate(lines, 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"{name}, line {n}: not valid UTF-8 (byte 0x{raw[exc.start]:02x} "
                            f"at column {exc.start + 1}); save the file as UTF-8 and try "
                            f"again") from None
        if n == 1 and line.startswith("\ufeff"):
            line = line[1:]
        yield line


class TableReader:
    """Rows of one table. ``columns`` lists every column; ``chunks`` reads the rows once."""

    format = ""
    # The type every value has, when the format fixes one (``"string"`` for CSV).
    value_type: str | None = None
    # The Arrow schema of a Parquet input, so a Parquet output keeps its column types.
    arrow_schema: Any = None

    # The number of rows if known (for progress bars); an estimate for CSV.
    total_rows: int | None = None

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def columns(self) -> list[str]:
        raise NotImplementedError

    def chunks(self, size: int) -> Iterator[Chunk]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> "TableReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CsvReader(TableReader):
    format = "csv"
    value_type = "string"

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self._fh = _open_binary(path)
        csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
        self._reader = csv.reader(utf8_lines(self._fh, self.name))
        try:
            header = next(self._reader, None)
        except csv.Error as exc:
            self.close()
            raise DataError(f"{self.name}, line 1: not a valid CSV header ({exc})") from None
        except DataError:
            self.close()
            raise
        if not header:
            self.close()
            raise DataError(f"{self.name} is empty: expected a header line naming the columns")
        dupes = sorted({c for c in header if header.count(c) > 1})
        if dupes:
            self.close()
            raise DataError(f"{self.name}: the header names these columns twice: "
                            f"{', '.join(map(repr, dupes))}")
        self._columns = header
        self._path = path
        self._header_lines = self._reader.line_num
        self._total: int | None = None

    @property  # type: ignore[override]
    def total_rows(self) -> int:
        """Lines after the header: an estimate (a quoted field may span lines), counted on
        first use at disk speed."""
        if self._total is None:
            lines, last = 0, b"\n"
            with open(self._path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    lines, last = lines + block.count(b"\n"), block[-1:]
            lines += last != b"\n"  # a last line without a newline
            self._total = max(lines - self._header_lines, 0)
        return self._total

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def chunks(self, size: int) -> Iterator[Chunk]:
        width = len(self._columns)
        rows: list[dict[str, Any]] = []
        where: list[str] = []
        last = self._reader.line_num
        while True:
            try:
                record = next(self._reader, None)
            except csv.Error as exc:
                raise DataError(f"{self.name}, line {last + 1}: not valid CSV ({exc})") from None
            if record is None:
                break
            start, last = last + 1, self._reader.line_num
            if not record:  # a blank line is not a row
                continue
            if len(record) != width:
                raise DataError(f"{self.name}, line {start}: {len(record)} fields, but the "
                                f"header has {width} columns; quote fields that contain commas")
            rows.append(dict(zip(self._columns, record)))
            where.append(f"line {start}")
            if len(rows) >= size:
                yield Chunk(rows, where)
                rows, where = [], []
        if rows:
            yield Chunk(rows, where)

    def close(self) -> None:
        self._fh.close()


class JsonlReader(TableReader):
    """One JSON object per line. Columns are every key seen, in order of first appearance:
    a first pass over the file finds them (and any malformed line) before work starts."""

    format = "jsonl"

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path
        _open_binary(path).close()
        self._columns: list[str] | None = None

    def _records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        with _open_binary(self.path) as fh:
            for n, line in enumerate(utf8_lines(fh, self.name), 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError as exc:
                    raise DataError(f"{self.name}, line {n}: not valid JSON ({exc})") from None
                if not isinstance(record, dict):
                    raise DataError(f"{self.name}, line {n}: expected a JSON object "
                                    f"({{\"text\": ...}}), got {type(record).__name__}")
                yield n, record

    @property
    def columns(self) -> list[str]:
        if self._columns is None:
            seen: dict[str, None] = {}
            count = 0
            for _, record in self._records():
                count += 1
                for key in record:
                    seen.setdefault(key)
            self._columns, self.total_rows = list(seen), count
        return list(self._columns)

    def chunks(self, size: int) -> Iterator[Chunk]:
        rows: list[dict[str, Any]] = []
        where: list[str] = []
        for n, record in self._records():
            rows.append(record)
            where.append(f"line {n}")
            if len(rows) >= size:
                yield Chunk(rows, where)
                rows, where = [], []
        if rows:
            yield Chunk(rows, where)


class ParquetReader(TableReader):
    format = "parquet"

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        pa, pq = _pyarrow("reading")
        _open_binary(path).close()
        try:
            self._file = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"cannot read {path} as Parquet: {exc}") from None
        self.arrow_schema = self._file.schema_arrow.remove_metadata()
        self.total_rows = self._file.metadata.num_rows

    @property
    def columns(self) -> list[str]:
        return list(self.arrow_schema.names)

    def chunks(self, size: int) -> Iterator[Chunk]:
        pa, _ = _pyarrow("reading")
        done = 0
        try:
            for batch in self._file.iter_batches(batch_size=size):
                rows = batch.to_pylist()
                yield Chunk(rows, [f"row {done + i}" for i in range(1, len(rows) + 1)])
                done += len(rows)
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"{self.name}, after row {done}: cannot read it as Parquet: "
                            f"{exc}") from None

    def close(self) -> None:
        self._file.close()


class TextsReader(TableReader):
    """Texts given one by one (command-line arguments, lines of stdin) as a ``text`` column."""

    value_type = "string"

    def __init__(self, texts: Iterable[str], name: str, unit: str = "line") -> None:
        super().__init__(name)
        self._texts = texts
        self._unit = unit

    @property
    def columns(self) -> list[str]:
        return ["text"]

    def chunks(self, size: int) -> Iterator[Chunk]:
        rows: list[dict[str, Any]] = []
        where: list[str] = []
        for n, text in enumerate(self._texts, 1):
            rows.append({"text": text})
            where.append(f"{self._unit} {n}")
            if len(rows) >= size:
                yield Chunk(rows, where)
                rows, where = [], []
        if rows:
            yield Chunk(rows, where)


def open_table(path: str | Path, fmt: str | None = None) -> TableReader:
    """A reader for ``path``, in ``fmt`` or the format its extension names."""
    path = Path(path)
    fmt = detect_format(path, fmt)
    return {"csv": CsvReader, "jsonl": JsonlReader, "parquet": ParquetReader}[fmt](path)


def stdin_lines(stream: IO[bytes] | IO[str], name: str = "<stdin>") -> Iterator[str]:
    """One text per line of ``stream`` (bytes are decoded as UTF-8), newline removed."""
    lines = stream if isinstance(stream.read(0), str) else utf8_lines(stream, name)
    for line in lines:
        yield line.rstrip("\r\n")  # type: ignore[union-attr]


# -- writing -------------------------------------------------------------------------------

def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


class TableWriter:
    """Writes rows with ``columns`` to a temporary file, renamed to ``path`` by ``commit``.

    As a context manager it commits on success and removes the temporary file on error.
    """

    def __init__(self, path: str | Path, fmt: str, columns: Sequence[str]) -> None:
        self.path = Path(path)
        self.format = fmt
        self.columns = list(columns)
        if self.path.is_dir():
            raise DataError(f"cannot write {self.path}: it is a directory")
        if not self.path.parent.is_dir():
            raise DataError(f"cannot write {self.path}: the folder {self.path.parent} "
                            f"does not exist")
        self.tmp = self.path.with_name(
            f".{self.path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
        self.rows_written = 0

    def write(self, rows: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        pass

    def commit(self) -> None:
        self._close()
        if not self.tmp.exists():  # nothing was written: still produce a valid empty table
            self.write([])
            self._close()
        # On disk before the rename, so a crash of the machine (not only of the process)
        # never leaves a complete-looking name over an incomplete file.
        fd = os.open(self.tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        try:
            self._close()
        finally:
            self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> "TableWriter":
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


class CsvWriter(TableWriter):
    def __init__(self, path: str | Path, columns: Sequence[str]) -> None:
        super().__init__(path, "csv", columns)
        self._fh: IO[str] | None = None

    def write(self, rows: list[dict[str, Any]]) -> None:
        if self._fh is None:
            self._fh = open(self.tmp, "x", encoding="utf-8", newline="")
            self._csv = csv.writer(self._fh, lineterminator="\n")
            self._csv.writerow(self.columns)
        self._csv.writerows([_csv_value(row.get(c)) for c in self.columns] for row in rows)
        self.rows_written += len(rows)

    def _close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class JsonlWriter(TableWriter):
    """Each row is written with its own keys (a JSONL input keeps keys it lacked absent)."""

    def __init__(self, path: str | Path, columns: Sequence[str]) -> None:
        super().__init__(path, "jsonl", columns)
        self._fh: IO[str] | None = None

    def write(self, rows: list[dict[str, Any]]) -> None:
        if self._fh is None:
            self._fh = open(self.tmp, "x", encoding="utf-8")
        # default=str: Parquet dates and decimals become their usual text form.
        self._fh.writelines(json.dumps(row, ensure_ascii=False, default=str) + "\n"
                            for row in rows)
        self.rows_written += len(rows)

    def _close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class ParquetWriter(TableWriter):
    """One row group per ``write``. Column types come from ``types`` (name -> Arrow type),
    else from a Parquet input's schema, else are inferred from the first rows written.
    ``metadata`` is stored in the file's footer (readable without reading any rows)."""

    def __init__(self, path: str | Path, columns: Sequence[str], *,
                 source: TableReader | None = None, types: dict[str, Any] | None = None,
                 metadata: dict[str, str] | None = None) -> None:
        self._pa, self._pq = _pyarrow("writing")
        super().__init__(path, "parquet", columns)
        self._source = source
        self._types = dict(types or {})
        self._metadata = metadata  # key-value pairs for the file's footer
        self._writer: Any = None
        self._schema: Any = None

    def _make_schema(self, rows: list[dict[str, Any]]) -> Any:
        pa = self._pa
        known = dict(self._types)
        source = self._source
        if source is not None and source.arrow_schema is not None:
            known.update({f.name: f.type for f in source.arrow_schema})
        elif source is not None and source.value_type == "string":
            known.update({c: pa.string() for c in source.columns})
        for column in self.columns:
            if column in known:
                continue
            values = [r.get(column) for r in rows]
            try:
                kind = pa.array(values).type
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                raise DataError(self._mixed(column, values)) from None
            # A column with only nulls so far has no type; text is the likeliest.
            known[column] = pa.string() if pa.types.is_null(kind) else kind
        return pa.schema([(c, known[c]) for c in self.columns])

    def _mixed(self, column: str, values: list[Any], earlier: Any = None) -> str:
        kinds = ", ".join(sorted({type(v).__name__ for v in values if v is not None}))
        if earlier is not None:
            kinds = f"{earlier} in earlier rows, then {kinds}"
        return (f"cannot write {self.path} as Parquet: column {column!r} mixes types "
                f"({kinds}), and a Parquet column has one type: write CSV or JSONL instead")

    def write(self, rows: list[dict[str, Any]]) -> None:
        pa = self._pa
        if self._schema is None:
            self._schema = self._make_schema(rows)
            if self._metadata:
                self._schema = self._schema.with_metadata(self._metadata)
        try:
            table = pa.Table.from_pylist(rows, schema=self._schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            for field in self._schema:  # find the column, for the message
                values = [r.get(field.name) for r in rows]
                try:
                    pa.array(values, type=field.type)
                except (pa.ArrowInvalid, pa.ArrowTypeError):
                    raise DataError(self._mixed(field.name, values, field.type)) from None
            raise
        if self._writer is None:
            self._writer = self._pq.ParquetWriter(self.tmp, self._schema)
        self._writer.write_table(table)
        self.rows_written += len(rows)

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def open_writer(path: str | Path, columns: Sequence[str], fmt: str | None = None, *,
                source: TableReader | None = None,
                types: dict[str, str] | None = None) -> TableWriter:
    """A writer for ``path`` in ``fmt`` or the format its extension names.

    ``types`` maps columns to ``"string"``, ``"float"`` or ``"bool"`` (used by Parquet).
    """
    fmt = detect_format(path, fmt, option="--output-format")
    if fmt == "csv":
        return CsvWriter(path, columns)
    if fmt == "jsonl":
        return JsonlWriter(path, columns)
    pa, _ = _pyarrow("writing")
    arrow = {"string": pa.string(), "float": pa.float64(), "bool": pa.bool_()}
    return ParquetWriter(path, columns, source=source,
                         types={c: arrow[t] for c, t in (types or {}).items()})
