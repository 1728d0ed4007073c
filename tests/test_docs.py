"""The examples in docstrings are real outputs: run them."""

from __future__ import annotations

import doctest
import importlib

import pytest

from helpers import shipped_models

MODULES = ["frankly.result", "frankly.text.normalize", "frankly.training.metrics",
           "frankly.analyzer", "frankly.text.language", "frankly.batch.job",
           "frankly.text.sentences", "frankly.training.labels", "frankly.training.train",
           "frankly.policy", "frankly.privacy", "frankly.audit.stats"]
if "accurate" in shipped_models():
    MODULES.append("frankly")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    failed, attempted = doctest.testmod(importlib.import_module(name))
    assert attempted > 0 and failed == 0
