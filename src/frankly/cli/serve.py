"""``frankly serve`` (the REST service), ``frankly keys`` (its API keys) and
``frankly ingest`` (load a file into its store, as ``POST /v1/feedback`` does)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from frankly.cli.common import (Progress, UsageError, add_format_option, add_model_option,
                                add_progress_option, add_subject_kind_option, err, positive_int,
                                want_progress)

SERVE_EXAMPLES = """\
examples:
  frankly keys create --name dashboard --scope read   # prints the key once
  frankly serve                                       # http://127.0.0.1:8000/docs
  frankly serve --model fast --port 9000
  frankly serve --database-url postgresql+psycopg://frankly@db/frankly
  frankly serve --config frankly.toml

Every endpoint but /health needs 'Authorization: Bearer <key>'. Feedback is stored in
$FRANKLY_HOME/frankly.db (default ~/.frankly) with personal data redacted. The service
listens on loopback unless --host says otherwise.
"""
KEYS_EXAMPLES = """\
examples:
  frankly keys create --name support-tool --scope write
  frankly keys create --name ops --scope admin --rate-limit 1000
  frankly keys list
  frankly keys revoke k_3f9a2c1d

Scopes nest: read (analyse, list, stats), write (also ingest and override), admin (also
the audit trail and a person's export and erasure). The key is shown once, at creation;
Frankly stores only its SHA-256 hash.
"""
INGEST_EXAMPLES = """\
examples:
  frankly ingest --input reviews.csv --source reviews --brand acme
  frankly ingest --input tickets.jsonl --id-column ticket_id --created-column sent_at \\
      --subject-column customer_id

Each row is analysed, redacted and stored like an item sent to POST /v1/feedback. Rows
with an --id-column value already stored are skipped, so running it again after a crash
stores nothing twice. It can run while 'frankly serve' writes to the same database.
"""
# Items per transaction: the API's benchmark batch size. Between transactions the writer
# yields briefly so a service reading the same SQLite file is not starved (measured: p99 of
# a web reader fell from 830 ms to 19 ms with short transactions and a pause).
INGEST_BATCH = 500
INGEST_PAUSE_SECONDS = 0.005


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the REST service (FastAPI under uvicorn)",
                       description="Run the Frankly REST service: analysis, feedback storage "
                                   "with redaction, stats, overrides, export and erasure.",
                       epilog=SERVE_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", help="address to listen on (default: 127.0.0.1, loopback only)")
    p.add_argument("--port", type=positive_int, help="port (default: 8000)")
    p.add_argument("--workers", type=positive_int, default=1, metavar="N",
                   help="server processes (default: 1; each loads the model and keeps its "
                        "own rate-limit counts)")
    _add_store_options(p)
    add_model_option_optional(p)
    p.add_argument("--log-level", default="info",
                   choices=("critical", "error", "warning", "info", "debug"))
    p.set_defaults(run=run_serve)

    k = sub.add_parser("keys", help="create, list and revoke API keys of the service",
                       description="Manage the service's API keys.", epilog=KEYS_EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    ksub = k.add_subparsers(dest="action", metavar="ACTION", required=True)
    c = ksub.add_parser("create", help="create a key and print it once")
    c.add_argument("--name", default="unnamed", help="who or what uses it (default: unnamed)")
    c.add_argument("--scope", choices=("read", "write", "admin"), default="read",
                   help="what it may do (default: read)")
    c.add_argument("--rate-limit", type=float, metavar="PER_SECOND",
                   help="requests per second for this key (default: the service's)")
    ls = ksub.add_parser("list", help="list keys (never the secrets)")
    ls.add_argument("--json", action="store_true", help="print JSON lines")
    r = ksub.add_parser("revoke", help="revoke a key by its id")
    r.add_argument("key_id", help="the id shown by 'frankly keys list'")
    for parser in (c, ls, r):
        _add_store_options(parser, settings=False)
    k.set_defaults(run=run_keys)

    i = sub.add_parser("ingest", help="analyse a file and store it as the service would",
                       description="Analyse, redact and store every row of a file in the "
                                   "service's database.", epilog=INGEST_EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    i.add_argument("-i", "--input", required=True, metavar="FILE",
                   help="a CSV, JSONL or Parquet file")
    add_format_option(i)
    i.add_argument("-t", "--text-column", default="text", metavar="COLUMN")
    for name in ("id", "source", "brand", "created", "subject"):
        i.add_argument(f"--{name}-column", metavar="COLUMN",
                       help=f"column holding each row's {name.replace('created', 'created_at')}")
    i.add_argument("--source", help="source of every row (when there is no --source-column)")
    i.add_argument("--brand", help="brand of every row (when there is no --brand-column)")
    add_subject_kind_option(i, who="the rows")
    _add_store_options(i)
    add_model_option_optional(i)
    add_progress_option(i)
    i.set_defaults(run=run_ingest, texts=[], output=None, output_format=None, json=False)


def add_model_option_optional(parser: argparse.ArgumentParser) -> None:
    add_model_option(parser)
    parser.set_defaults(model=None)  # None: the config file's, else "accurate"


def _add_store_options(parser: argparse.ArgumentParser, settings: bool = True) -> None:
    parser.add_argument("--database-url", metavar="URL",
                        help="sqlite:///path.db or postgresql+psycopg://user@host/db "
                             "(default: a SQLite file in $FRANKLY_HOME, ~/.frankly)")
    parser.add_argument("--config", metavar="FILE",
                        help="a TOML file of service settings (see the README)")
    if settings:
        parser.add_argument("--no-store-text", dest="store_text", action="store_false",
                            default=None,
                            help="store scores and metadata only, never the (redacted) text")
        parser.add_argument("--retention-days", type=positive_int, metavar="DAYS",
                            help="purge stored items older than this (default: 365)")
        parser.add_argument("--redact-handles", action="store_true", default=None,
                            help="also redact @handles")


def settings_from(args: argparse.Namespace) -> Any:
    from frankly.config import ServiceSettings

    base = ServiceSettings.from_file(args.config) if args.config else ServiceSettings()
    values = {name: getattr(args, name, None)
              for name in ("database_url", "host", "port", "model", "store_text",
                           "retention_days", "redact_handles")}
    return base.with_overrides(**values)


def run_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:
        from frankly.errors import MissingDependencyError

        raise MissingDependencyError("frankly serve needs uvicorn: pip install "
                                     "'frankly[server]'") from None
    from frankly.service import create_app

    settings = settings_from(args)
    _log_to_stderr(args.log_level)
    err(f"frankly: serving on http://{settings.host}:{settings.port} (docs at /docs), "
        f"model {settings.model}")
    # uvicorn's own access log prints raw paths, which may hold subject ids: ours logs the
    # route template instead (frankly.service.app.Observe).
    if args.workers > 1:
        import os

        os.environ["FRANKLY_SERVE_SETTINGS"] = json.dumps(_settings_dict(settings))
        # Each process's onnxruntime gets its share of the cores (unless the user chose):
        # N processes of 2 threads each on 2 cores fought over them.
        os.environ.setdefault("FRANKLY_THREADS",
                              str(max(1, (os.cpu_count() or 1) // args.workers)))
        from frankly.service.workers import run_workers

        # Each worker listens on its own socket (SO_REUSEPORT), so the kernel spreads
        # connections over them: see frankly.service.workers.
        run_workers(uvicorn, host=settings.host, port=settings.port, workers=args.workers,
                    log_level=args.log_level)
    else:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                    log_level=args.log_level, access_log=False)
    return 0


def _log_to_stderr(level: str) -> None:
    """Frankly's own log lines (one per request: method, route template, status, time; never
    a text) go to stderr beside uvicorn's."""
    import logging

    logger = logging.getLogger("frankly")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level.upper())


def _settings_dict(settings: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(settings)


def run_keys(args: argparse.Namespace) -> int:
    from frankly.config import open_default_store

    settings = settings_from(args)
    store = open_default_store(settings.database_url)
    try:
        if args.action == "create":
            if args.rate_limit is not None and not args.rate_limit > 0:
                raise UsageError(f"--rate-limit must be above 0, got {args.rate_limit}")
            key, secret = store.create_key(name=args.name, scopes=(args.scope,),
                                           rate_limit=args.rate_limit)
            print(secret)
            err(f"frankly: created key {key.id} ({args.scope}); it is shown only now, "
                f"store it safely. Send it as 'Authorization: Bearer <key>'.")
        elif args.action == "list":
            keys = store.list_keys()
            if args.json:
                for key in keys:
                    print(json.dumps(key.to_dict()))
            elif not keys:
                err("frankly: no keys yet; create one with 'frankly keys create'")
            else:
                print(f"{'id':<14} {'name':<20} {'scopes':<8} {'rate/s':>7}  {'created':<20} "
                      f"{'last used':<20} status")
                for key in keys:
                    d = key.to_dict()
                    print(f"{d['id']:<14} {(d['name'] or '-')[:20]:<20} "
                          f"{','.join(d['scopes']):<8} "
                          f"{d['rate_limit'] if d['rate_limit'] else 'default':>7}  "
                          f"{(d['created_at'] or '')[:19]:<20} "
                          f"{(d['last_used_at'] or '-')[:19]:<20} "
                          f"{'revoked' if d['revoked_at'] else 'active'}")
        else:
            key = store.revoke_key(args.key_id)
            err(f"frankly: revoked key {key.id}; the service refuses it within seconds")
    finally:
        store.close()
    return 0


def run_ingest(args: argparse.Namespace) -> int:
    from frankly import policy
    from frankly.analyzer import Analyzer
    from frankly.batch.job import require_columns
    from frankly.cli.analyze import _reader
    from frankly.config import open_default_store
    from frankly.ingest import Ingestor

    settings = settings_from(args)
    policy.check_subject_kind(args.subject_kind)
    columns = {args.text_column: "--text-column"}
    for name in ("id", "source", "brand", "created", "subject"):
        column = getattr(args, f"{name}_column")
        if column:
            columns[column] = f"--{name}-column"
    store = open_default_store(settings.database_url)
    totals = {"created": 0, "duplicate": 0, "failed": 0}
    failures: list[str] = []
    try:
        with _reader(args) as reader:
            require_columns(reader, columns)
            ingestor = Ingestor(Analyzer(settings.model), store, settings)
            bar = Progress(reader.total_rows, "ingesting") if want_progress(args.progress) \
                else None
            row = 0
            try:
                for chunk in reader.chunks(INGEST_BATCH):
                    items = [_item(record, args) for record in chunk.rows]
                    for report in ingestor.ingest(items):
                        totals[report.status] += 1
                        if report.status == "failed" and len(failures) < 20:
                            failures.append(f"{chunk.where[report.index]}: {report.error}")
                    row += len(items)
                    if bar is not None:
                        bar(len(items))
                    time.sleep(INGEST_PAUSE_SECONDS)
            finally:
                if bar is not None:
                    bar.close()
    finally:
        store.close()
    print(f"ingested {row:,} rows: {totals['created']:,} stored, {totals['duplicate']:,} "
          f"already stored, {totals['failed']:,} failed")
    for line in failures:
        print(f"  {line}", file=sys.stderr)
    return 1 if totals["failed"] else 0


def _item(record: dict[str, Any], args: argparse.Namespace) -> Any:
    from frankly.ingest import FeedbackItem

    def col(name: str) -> Any:
        column = getattr(args, f"{name}_column")
        value = record.get(column) if column else None
        return None if value is None or value == "" else value

    return FeedbackItem(text=record.get(args.text_column),  # type: ignore[arg-type]
                        item_id=_str(col("id")), source=_str(col("source")) or args.source,
                        brand=_str(col("brand")) or args.brand,
                        created_at=col("created"), subject_id=_str(col("subject")),
                        subject_kind=args.subject_kind)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
