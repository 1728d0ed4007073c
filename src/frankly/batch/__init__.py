"""Files in and out: analyse CSV, JSONL and Parquet tables in a streaming way.

>>> from frankly.batch import analyze_file
>>> # analyze_file("feedback.csv", "scored.parquet", "fast", text_column="comment")
"""

from __future__ import annotations

from frankly.batch.job import (OUTPUT_FIELDS, Summary, analyze_chunks, analyze_file,
                               analyze_table, output_names, require_columns)
from frankly.batch.tables import (FORMATS, Chunk, TableReader, TableWriter, detect_format,
                                  open_table, open_writer)

__all__ = ["FORMATS", "OUTPUT_FIELDS", "Chunk", "Summary", "TableReader", "TableWriter",
           "analyze_chunks", "analyze_file", "analyze_table", "detect_format", "open_table",
           "open_writer", "output_names", "require_columns"]
