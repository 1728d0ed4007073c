"""Frankly on Spark: ``analyze(df, text_col="text", model="accurate")`` adds the prediction
columns to a DataFrame (``pip install 'frankly[spark]'``).

>>> from frankly.spark import analyze                        # doctest: +SKIP
>>> analyze(spark.read.parquet("reviews/"), model="fast").groupBy("label").count().show()

See :mod:`frankly.batch.spark` for how it runs; ``frankly batch --engine spark`` runs a
whole job of files through it.
"""

from __future__ import annotations

from frankly.batch.spark import analyze

__all__ = ["analyze"]
