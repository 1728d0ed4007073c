"""No emotion labels anywhere in the product (issue 9, item 3).

Frankly reads sentiment (negative, neutral, positive, mixed); it never labels emotions.
This scans what a user sees as the product's vocabulary for emotion words used as labels:

- **names and values**: ``frankly.__all__``, the fields of Result and the dataclasses in
  it, every key of ``Result.to_dict()``, the label sets (sentiment labels, urgency and
  aspect categories), every CLI option, its destination, metavar, choices and default,
  and in the service's OpenAPI schema every path, operation id, parameter name, property
  name, schema name, title and enum value. None may contain an emotion word at all.
- **prose** (CLI help, descriptions and epilogs; OpenAPI descriptions, summaries and
  examples): a sentence may mention an emotion word in passing ("an angry review that
  needs no action") or to say what Frankly does not do ("never labels emotions (anger,
  fear, joy)"), but a sentence that is not a refusal must not list emotion words, name
  "emotion" as something Frankly does, or put one in label syntax (``label: joy``,
  ``joy|anger``, ``={joy}``).

The checks run on planted violations too (the ``test_the_scanner_*`` tests), so this file
fails when the vocabulary leaks in.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from typing import Any, Iterator

import pytest

import frankly
from frankly import result as result_module
from frankly.cli.main import build_parser

EMOTION_WORDS = frozenset({
    "anger", "angry", "annoyance", "joy", "joyful", "fear", "fearful", "afraid", "scared",
    "sadness", "sad", "disgust", "disgusted", "surprise", "surprised", "happy", "happiness",
    "grief", "rage", "emotion", "emotions", "emotional", "mood", "moods",
})
# "emotion" itself: in prose only as something Frankly does not do.
META_WORDS = frozenset({"emotion", "emotions", "emotional", "mood", "moods"})
NEGATION = re.compile(r"\b(not|never|no|nor|none|without|refuses?|refused|cannot|"
                      r"out of scope|does ?n[o']t|do ?n[o']t|is ?n[o']t|isn't)\b|n't\b",
                      re.IGNORECASE)
_TERMS = "|".join(sorted(EMOTION_WORDS, key=len, reverse=True))
LABEL_SYNTAX = [
    # "label: joy", "labels anger", "categories such as fear", "returns sadness"
    re.compile(rf"\b(labels?|labelled|class(es)?|categor(y|ies)|tags?|outputs?|returns?|"
               rf"predicts?|detects?|classif\w+)\b\W+(\w+\W+){{0,3}}?({_TERMS})\b", re.I),
    # "=joy", ": anger", "{fear", "[sad", "|happy", "/surprise"
    re.compile(rf"[=:{{\[|/]\s*['\"`]?({_TERMS})\b", re.I),
    # "joy|", "anger}", "fear]", "sad/"
    re.compile(rf"\b({_TERMS})['\"`]?\s*[|}}\]/]", re.I),
]
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")


def tokens(name: str) -> set[str]:
    """Lower-case words of an identifier or value: snake, kebab, camel and spaces split."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(name))
    return {t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t}


def name_violations(where: str, name: Any) -> list[str]:
    found = tokens(name) & EMOTION_WORDS
    return [f"{where}: {name!r} uses {', '.join(sorted(found))}"] if found else []


def prose_violations(where: str, text: str | None) -> list[str]:
    out = []
    for sentence in _SENTENCE_END.split(text or ""):
        found = [w.lower() for w in re.findall(rf"\b({_TERMS})\b", sentence, re.I)]
        if not found or NEGATION.search(sentence):
            continue
        reasons = []
        if len(set(found)) >= 2:
            reasons.append("lists emotion words")
        if set(found) & META_WORDS:
            reasons.append("names emotions as something done")
        if any(p.search(sentence) for p in LABEL_SYNTAX):
            reasons.append("puts an emotion word in label syntax")
        if reasons:
            shown = " ".join(sentence.split())
            out.append(f"{where}: {'; '.join(reasons)}: {shown[:160]!r}")
    return out


# -- what is scanned ----------------------------------------------------------------------

def parser_violations(parser: argparse.ArgumentParser, path: str) -> list[str]:
    out = prose_violations(f"{path} description", parser.description)
    out += prose_violations(f"{path} epilog", parser.epilog)
    out += prose_violations(f"{path} usage", parser.format_usage())
    for action in parser._actions:
        where = f"{path} {'/'.join(action.option_strings) or action.dest}"
        for name in (*action.option_strings, action.dest, action.metavar):
            if isinstance(name, str):
                out += name_violations(where, name)
        if isinstance(action.default, str):
            out += name_violations(f"{where} default", action.default)
        out += prose_violations(f"{where} help", action.help)
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out += name_violations(f"{path} command", name)
                out += parser_violations(sub, f"{path} {name}")
        elif action.choices:
            for choice in action.choices:
                out += name_violations(f"{where} choice", choice)
    return out


NAME_KEYS = {"operationId", "title", "name", "$ref", "const"}
PROSE_KEYS = {"description", "summary", "example", "examples"}


def openapi_violations(node: Any, where: str = "openapi") -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{where}/{key}"
            if key in ("properties", "schemas", "paths", "responses"):
                for name in value:
                    out += name_violations(f"{here} name", name)
            if key == "enum":
                for item in value:
                    out += name_violations(f"{here} value", item)
            elif key == "required" and isinstance(value, list):
                for item in value:
                    out += name_violations(f"{here} field", item)
            elif key in NAME_KEYS and isinstance(value, str):
                out += name_violations(here, value)
            elif key in PROSE_KEYS:
                out += _prose_in(here, value)
                continue
            out += openapi_violations(value, here)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            out += openapi_violations(item, f"{where}/{i}")
    return out


def _prose_in(where: str, value: Any) -> list[str]:
    if isinstance(value, str):
        return prose_violations(where, value)
    if isinstance(value, dict):
        return [v for k, item in value.items() for v in _prose_in(f"{where}/{k}", item)]
    if isinstance(value, list):
        return [v for i, item in enumerate(value) for v in _prose_in(f"{where}/{i}", item)]
    return []


def dict_keys(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{where}.{key}", key
            yield from dict_keys(item, f"{where}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from dict_keys(item, f"{where}[]")


def result_classes() -> list[type]:
    return [obj for obj in vars(result_module).values()
            if dataclasses.is_dataclass(obj) and isinstance(obj, type)]


# -- the product --------------------------------------------------------------------------

def test_public_names_and_label_sets_hold_no_emotion_words():
    from frankly.aspects.taxonomy import DEFAULT_CATEGORIES
    from frankly.urgency import CATEGORIES as URGENCY_CATEGORIES

    found = [v for name in frankly.__all__ for v in name_violations("frankly.__all__", name)]
    for cls in result_classes():
        for f in dataclasses.fields(cls):
            found += name_violations(f"{cls.__name__} field", f.name)
    for label in (*frankly.LABELS, *result_module.DOCUMENT_LABELS):
        found += name_violations("label", label)
    found += [v for c in URGENCY_CATEGORIES for v in name_violations("urgency category", c)]
    found += [v for c in DEFAULT_CATEGORIES for v in name_violations("aspect category", c)]
    assert found == []
    assert {"Result", "Urgency", "Aspect"} <= {c.__name__ for c in result_classes()}


def test_result_to_dict_keys_hold_no_emotion_words():
    analyzer = frankly.load("fast")
    result = analyzer.analyze("The courier was late again. Refund me today or I cancel. "
                              "The blender itself is superb.")
    record = result.to_dict()
    keys = list(dict_keys(record, "to_dict()"))
    assert {"label", "scores", "urgency", "aspects", "sentences", "evidence"} <= set(record)
    assert record["aspects"] and record["sentences"] and record["urgency"]["reasons"]
    assert [v for where, key in keys for v in name_violations(where, key)] == []
    assert record["label"] in result_module.DOCUMENT_LABELS


def test_cli_help_holds_no_emotion_labels():
    parser = build_parser()
    found = parser_violations(parser, "frankly")
    assert found == []
    # Every command was walked, the audit's included.
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert {"analyze", "audit", "evaluate", "serve", "keys"} <= set(sub.choices)


def test_service_openapi_schema_holds_no_emotion_labels(tmp_path):
    pytest.importorskip("fastapi")
    pytest.importorskip("sqlalchemy")
    from frankly.config import ServiceSettings
    from frankly.service import create_app

    settings = ServiceSettings(database_url=f"sqlite:///{tmp_path / 'frankly.db'}",
                               retention_days=None)
    schema = create_app(settings, analyzer=frankly.load("fast")).openapi()
    assert "/v1/analyze" in schema["paths"] and schema["components"]["schemas"]
    assert openapi_violations(schema) == []


# -- the scanner can fail -----------------------------------------------------------------

def test_the_scanner_catches_emotion_names_and_values():
    assert name_violations("field", "emotion_label")
    assert name_violations("field", "angerScore")
    assert name_violations("key", "sad")
    assert not name_violations("field", "sadr")  # a token, not a substring
    assert not name_violations("field", "needs_review")


def test_the_scanner_catches_emotion_labels_in_a_parser():
    p = argparse.ArgumentParser(prog="x", description="Analyse feedback.")
    p.add_argument("--emotion", choices=("positive", "negative"))
    p.add_argument("--tone", choices=("joy", "neutral"), help="pick a tone")
    p.add_argument("--x", help="the label of each text: joy, anger or neutral")
    found = parser_violations(p, "x")
    assert any("--emotion" in v for v in found)
    assert any("choice" in v and "joy" in v for v in found)
    assert any("help" in v for v in found)


def test_the_scanner_tells_refusals_and_passing_mentions_from_labels():
    assert prose_violations("h", "Returns the emotion of each text.")
    assert prose_violations("h", "Scores anger, joy and fear for every message.")
    assert prose_violations("h", "Each sentence gets a label such as happy.")
    assert prose_violations("h", "mood=happy|sad")
    assert not prose_violations("h", "Frankly never labels emotions (anger, fear, joy).")
    assert not prose_violations("h", "It does not infer emotions.")
    assert not prose_violations(
        "h", "A calm request can rank above an angry review that needs no action.")
    assert not prose_violations("h", "A calm request can rank above an angry review.")


def test_the_scanner_catches_emotion_labels_in_a_schema():
    schema = {"components": {"schemas": {
        "Out": {"properties": {"emotion": {"type": "string", "enum": ["joy", "anger"]},
                               "label": {"type": "string",
                                         "description": "One of joy, anger or fear."}}},
        "MoodOut": {"properties": {"ok": {"type": "boolean"}}}}},
        "paths": {"/v1/emotions": {}}}
    found = openapi_violations(schema)
    assert any("'emotion'" in v for v in found)
    assert any("enum value" in v and "'joy'" in v for v in found)
    assert any("description" in v for v in found)
    assert any("MoodOut" in v for v in found)
    assert any("/v1/emotions" in v for v in found)


def test_the_scanner_catches_an_emotion_field_on_a_result_class():
    @dataclasses.dataclass(frozen=True)
    class Leaky:
        label: str
        emotion: str

    found = [v for f in dataclasses.fields(Leaky) for v in name_violations("Leaky", f.name)]
    assert found == ["Leaky: 'emotion' uses emotion"]
