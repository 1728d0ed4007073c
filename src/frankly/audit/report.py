"""The audit as a short text summary (the terminal), Markdown and HTML (files).

Markdown and HTML are rendered from one list of blocks, so they always say the same thing.
Inline text is plain (escaped for each format), :class:`Code` (a code span: corpus
templates, identifiers) or :class:`Strong`. In HTML every piece of text is escaped and the
PNG plots are embedded, so the file stands alone.
"""

from __future__ import annotations

import base64
import html
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence, Union

from frankly.audit.bias import AXES, BREAKDOWNS, NOUN_PHRASE
from frankly.audit.probes import CATEGORIES, REPORTED_ONLY


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Strong:
    text: str


Inline = Union[str, Code, Strong]
Cell = Union[Inline, Sequence[Inline]]


@dataclass(frozen=True)
class Block:
    kind: str  # h1 h2 h3 p ul table img
    content: Any = None
    header: Sequence[str] = ()
    align: str = ""


# -- numbers ------------------------------------------------------------------------------

def fmt_p(p: float) -> str:
    if p is None or math.isnan(p):
        return "n/a"
    return f"{p:.1e}" if p < 0.001 else f"{p:.3f}"


def fmt_d(d: float) -> str:
    return "n/a" if d is None or math.isnan(d) else f"{d:+.4f}"


def fmt_pct(x: float, digits: int = 1) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{100 * x:.{digits}f}%"


def fmt_ci(row: dict[str, Any]) -> str:
    lo, hi = row["ci_low"], row["ci_high"]
    return "n/a" if math.isnan(lo) else f"{lo:+.4f} to {hi:+.4f}"


def status(met: bool | None) -> Strong:
    return Strong("n/a" if met is None else "PASS" if met else "FAIL")


# -- blocks -------------------------------------------------------------------------------

def blocks(audit: dict[str, Any], images: dict[str, str] | None = None) -> list[Block]:
    """The whole report; ``images`` maps a plot ("bias", "probes", "reliability") to its
    file name beside the report."""
    images = images or {}
    model = audit["model"]
    out = [Block("h1", f"Frankly audit: {model['id']}"),
           Block("p", [f"Measured with Frankly {audit['frankly_version']} by ",
                       Code("frankly audit"), ". Scores are the calibrated ones every "
                       "Frankly result carries; the score of a text is ",
                       Code("positive - negative"), " (from -1 to 1)."]),
           Block("h2", "Targets"),
           Block("table", [[t["target"], t["goal"], t["measured"], status(t["met"])]
                           for t in audit["targets"]],
                 header=("Target", "Goal", "Measured", "Status"), align="lllc")]
    out += _bias_blocks(audit["bias"], images)
    out += _robustness_blocks(audit["robustness"], images)
    out += _calibration_blocks(audit["calibration"], images)
    return out


def _bias_blocks(bias: dict[str, Any], images: dict[str, str]) -> list[Block]:
    out = [Block("h2", "Bias: Equity Evaluation Corpus")]
    if "skipped" in bias:
        return out + [Block("p", f"Skipped: {bias['skipped']}.")]
    labels = ", ".join(f"{name} {n:,}" for name, n in bias["labels"].items())
    out += [
        Block("p", [f"{bias['sentences']:,} template sentences (Kiritchenko & Mohammad, 2018) "
                    f"that differ only in the person named. Labels given: {labels}. ",
                    "Within each template and filler word, the mean score of female persons "
                    "minus male ones is one pair per stratum (African-American names, "
                    "European-American names, noun phrases such as ", Code("my sister"),
                    " / ", Code("my brother"), "); the mean score of African-American names "
                    "minus European-American ones is one pair per gender. ",
                    f"Test: {bias['method']}; a difference counts as significant at "
                    f"p < {bias['targets']['alpha']}."]),
        Block("p", ["The breakdowns use the corpus's own columns: ", Code("Template"), ", ",
                    Code("Emotion"), " (shown as word category) and ", Code("Emotion word"),
                    " (the word put in the template). They group the corpus's sentences; "
                    "Frankly itself never outputs emotion labels, only negative, neutral "
                    "and positive."]),
        Block("table", [[AXES[axis]["title"], str(a["overall"]["pairs"]),
                         fmt_d(a["overall"]["mean_difference"]), fmt_ci(a["overall"]),
                         f"{a['overall']['t']:.2f}" if not math.isnan(a["overall"]["t"])
                         else "n/a", fmt_p(a["overall"]["p_value"]),
                         fmt_p(a["overall"]["p_holm"]),
                         str(len(a["significant_breakdowns"])), status(a["target_met"])]
                        for axis, a in bias["axes"].items()],
              header=("Difference", "Pairs", "Mean", "95% CI", "t", "p", "p (Holm)",
                      "Breakdowns significant", "Target"), align="lrrrrrrrc"),
    ]
    if "bias" in images:
        out.append(Block("img", images["bias"], header=("Mean score difference per "
                                                        "template, with 95% intervals",)))
    f = bias["flips"]
    out += [Block("h3", "Label flips when only the person changes"),
            Block("table", [["first names (the target)", f"{f['names']['pairs']:,}",
                             f"{f['names']['flipped']:,}", fmt_pct(f["names"]["rate"], 2),
                             f"{f['names']['cells_with_flips']} of {f['names']['cells']}"],
                            [f"{NOUN_PHRASE}s (she, my son...)",
                             f"{f['noun_phrases']['pairs']:,}",
                             f"{f['noun_phrases']['flipped']:,}",
                             fmt_pct(f["noun_phrases"]["rate"], 2),
                             f"{f['noun_phrases']['cells_with_flips']} of "
                             f"{f['noun_phrases']['cells']}"]],
                  header=("Persons swapped", "Sentence pairs", "Label differs", "Rate",
                          "Template cells with a flip"), align="lrrrr")]
    for kind, title in BREAKDOWNS:
        out += [Block("h3", f"Per {title}"), _breakdown_table(bias, kind, title)]
    return out


def _breakdown_table(bias: dict[str, Any], kind: str, title: str) -> Block:
    by_axis = {axis: {r["group"]: r for r in a["breakdowns"][kind]}
               for axis, a in bias["axes"].items()}
    groups = list(dict.fromkeys(g for rows in by_axis.values() for g in rows))
    rows = []
    for g in groups:
        row: list[Cell] = [Code(g) if kind == "template" else g]
        for axis in AXES:
            r = by_axis[axis].get(g)
            if r is None:
                row += ["-", "-", "-"]
                continue
            sig = not math.isnan(r["p_holm"]) and r["p_holm"] < bias["targets"]["alpha"]
            row += [str(r["pairs"]), fmt_d(r["mean_difference"]),
                    Strong(fmt_p(r["p_holm"])) if sig else fmt_p(r["p_holm"])]
        rows.append(row)
    return Block("table", rows, header=(title.capitalize(), "Gender pairs",
                                        "Female - male", "p (Holm)", "Race pairs",
                                        "AA - EA names", "p (Holm)"), align="lrrrrrr")


def _robustness_blocks(rob: dict[str, Any], images: dict[str, str]) -> list[Block]:
    o = rob["overall"]
    out = [Block("h2", "Robustness: minimal-pair probes"),
           Block("p", ["Short customer-feedback texts written for Frankly that differ by one "
                       "word, emoji or spelling; a row passes when the label is one of its "
                       "expected labels, a pair when all its rows pass. Sarcasm is measured "
                       "but left out of the overall rate. Overall: ",
                       Strong(f"{fmt_pct(o['rate'])} of {o['rows']} rows"),
                       f", {fmt_pct(o['pair_rate'])} of {o['pairs']} pairs (target "
                       f"{rob['target']:.0%} of rows)."])]
    rows = []
    for c in CATEGORIES:
        r = rob["categories"].get(c)
        if r is None:
            continue
        name = f"{c} (not in overall)" if c in REPORTED_ONLY else c
        rows.append([name, f"{r['rows']} ({r['pairs']})", fmt_pct(r["rate"]),
                     fmt_pct(r["pair_rate"])])
    rows.append([Strong("overall"), f"{o['rows']} ({o['pairs']})", Strong(fmt_pct(o["rate"])),
                 Strong(fmt_pct(o["pair_rate"]))])
    out.append(Block("table", rows, header=("Category", "Rows (pairs)", "Rows passed",
                                            "Pairs passed"), align="lrrr"))
    if "probes" in images:
        out.append(Block("img", images["probes"], header=("Probe rows passed per category",)))
    failed = [r for r in rob["rows"] if not r["passed"]]
    out.append(Block("h3", f"Failed probes ({len(failed)})"))
    out.append(Block("ul", [[Code(r["id"]), f" ({r['category']}) ", Code(r["text"]),
                             f": expected {' or '.join(r['expected'])}, got {r['predicted']}"]
                            for r in failed] or ["none"]))
    return out


def _calibration_blocks(cal: dict[str, Any], images: dict[str, str]) -> list[Block]:
    out = [Block("h2", ["Calibration and ", Code("needs_review")])]
    if "skipped" in cal:
        return out + [Block("p", f"Skipped: {cal['skipped']}.")]
    out.append(Block("p", [f"On {cal['dataset']} ({cal['n']:,} texts, accuracy "
                           f"{cal['accuracy']:.3f}): expected calibration error (top label, "
                           f"{cal['bins']} equal-width bins) ", Strong(f"{cal['ece']:.3f}"),
                           ". This set chose the model, its temperature and its review "
                           "threshold, so the figure is in-sample; the model card gives one "
                           "cross-fitted on its two halves. An error is a top score other "
                           "than the gold label."]))
    if "reliability" in images:
        out.append(Block("img", images["reliability"],
                         header=("Reliability diagram: accuracy against confidence",)))
    out.append(Block("table", [[f"{b['low']:.2f}-{b['high']:.2f}", f"{b['n']:,}",
                                f"{b['confidence']:.3f}", f"{b['accuracy']:.3f}"]
                               for b in cal["reliability"]],
                     header=("Confidence", "Texts", "Mean confidence", "Accuracy"),
                     align="lrrr"))
    threshold = cal["review_threshold"]
    out += [Block("h3", Code("needs_review")),
            Block("table", [[f"{threshold:.2f}" if threshold is not None else "n/a",
                             f"{fmt_pct(cal['needs_review_share'])} ({cal['flagged']:,})",
                             fmt_pct(cal["error_rate_flagged"]),
                             fmt_pct(cal["error_rate_unflagged"])]],
                  header=("Flagged below confidence", "Texts flagged", "Error rate flagged",
                          "Error rate not flagged"), align="rrrr")]
    return out


# -- Markdown -----------------------------------------------------------------------------

# Characters Markdown could read as markup: `<` only where it could open an HTML tag.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|]|<(?=[A-Za-z/!?]))")


def _md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_inline(part: Inline, in_table: bool) -> str:
    if isinstance(part, Code):
        text = part.text.replace("|", "\\|") if in_table else part.text
        fence = "``" if "`" in text else "`"
        pad = " " if fence == "``" else ""
        return f"{fence}{pad}{text}{pad}{fence}"
    if isinstance(part, Strong):
        return "**" + _md_escape(part.text) + "**"
    return _md_escape(part).replace("\n", " ")


def _md(parts: Cell, in_table: bool = False) -> str:
    if isinstance(parts, (str, Code, Strong)):
        parts = [parts]
    return "".join(_md_inline(p, in_table) for p in parts)


def to_markdown(report: list[Block]) -> str:
    lines: list[str] = []
    for b in report:
        if b.kind in ("h1", "h2", "h3"):
            lines += ["#" * int(b.kind[1]) + " " + _md(b.content), ""]
        elif b.kind == "p":
            lines += [_md(b.content), ""]
        elif b.kind == "ul":
            lines += [f"- {_md(item)}" for item in b.content] + [""]
        elif b.kind == "img":
            lines += [f"![{_md(b.header[0])}]({b.content})", ""]
        elif b.kind == "table":
            lines.append("| " + " | ".join(_md(h, True) for h in b.header) + " |")
            lines.append("|" + "|".join({"l": ":---", "r": "---:", "c": ":---:"}[a]
                                        for a in b.align) + "|")
            lines += ["| " + " | ".join(_md(c, True) for c in row) + " |" for row in b.content]
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


# -- HTML ---------------------------------------------------------------------------------

_CSS = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#222;line-height:1.45}table{border-collapse:collapse;margin:.5rem 0 1.2rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem}th{background:#f3f3f3}
td.r,th.r{text-align:right}td.c,th.c{text-align:center}code{background:#f6f6f6;padding:0 .2rem}
img{max-width:100%}"""


def _html_inline(part: Inline) -> str:
    if isinstance(part, Code):
        return f"<code>{html.escape(part.text)}</code>"
    if isinstance(part, Strong):
        return f"<strong>{html.escape(part.text)}</strong>"
    return html.escape(part)


def _html(parts: Cell) -> str:
    if isinstance(parts, (str, Code, Strong)):
        parts = [parts]
    return "".join(_html_inline(p) for p in parts)


def to_html(report: list[Block], image_dir: Path | None = None) -> str:
    """A standalone HTML page; plots in ``image_dir`` are embedded as data URIs (linked by
    name when they cannot be read)."""
    title = next((b.content for b in report if b.kind == "h1"), "Frankly audit")
    body: list[str] = []
    for b in report:
        if b.kind in ("h1", "h2", "h3"):
            body.append(f"<{b.kind}>{_html(b.content)}</{b.kind}>")
        elif b.kind == "p":
            body.append(f"<p>{_html(b.content)}</p>")
        elif b.kind == "ul":
            body.append("<ul>" + "".join(f"<li>{_html(i)}</li>" for i in b.content) + "</ul>")
        elif b.kind == "img":
            src = html.escape(b.content)
            path = image_dir / b.content if image_dir is not None else None
            if path is not None and path.is_file():
                src = "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
            body.append(f'<p><img src="{src}" alt="{html.escape(b.header[0])}"></p>')
        elif b.kind == "table":
            cls = {"l": "", "r": ' class="r"', "c": ' class="c"'}
            head = "".join(f"<th{cls[a]}>{_html(h)}</th>" for h, a in zip(b.header, b.align))
            rows = "".join("<tr>" + "".join(f"<td{cls[a]}>{_html(c)}</td>"
                                            for c, a in zip(row, b.align)) + "</tr>"
                           for row in b.content)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title if isinstance(title, str) else 'Frankly audit')}"
            f"</title><style>{_CSS}</style></head><body>\n" + "\n".join(body)
            + "\n</body></html>\n")


# -- terminal -----------------------------------------------------------------------------

def summary_text(audit: dict[str, Any]) -> str:
    """What ``frankly audit`` prints: the headline numbers and the targets."""
    lines = [f"audit of {audit['model']['id']}", ""]
    bias = audit["bias"]
    if "skipped" in bias:
        lines.append(f"bias: skipped ({bias['skipped']})")
    else:
        lines.append(f"bias (Equity Evaluation Corpus, {bias['sentences']:,} sentences; "
                     f"paired t-tests, Holm-corrected breakdowns):")
        for axis, a in bias["axes"].items():
            o = a["overall"]
            lines.append(f"  {AXES[axis]['title']}: mean {fmt_d(o['mean_difference'])} "
                         f"(95% CI {fmt_ci(o)}), p = {fmt_p(o['p_value'])}, {o['pairs']} "
                         f"pairs; {len(a['significant_breakdowns'])} of "
                         f"{a['family_size'] - 1} breakdowns significant")
            for name in a["significant_breakdowns"][:5]:
                lines.append(f"    significant: {name}")
            if len(a["significant_breakdowns"]) > 5:
                lines.append(f"    ... and {len(a['significant_breakdowns']) - 5} more "
                             f"(see the report)")
        f = bias["flips"]
        lines.append(f"  label flips when only the first name changes: "
                     f"{fmt_pct(f['names']['rate'], 2)} of {f['names']['pairs']:,} pairs "
                     f"(noun phrases: {fmt_pct(f['noun_phrases']['rate'], 2)})")
    rob = audit["robustness"]
    lines += ["", f"robustness: {fmt_pct(rob['overall']['rate'])} of "
                  f"{rob['overall']['rows']} probe rows passed, "
                  f"{fmt_pct(rob['overall']['pair_rate'])} of pairs (sarcasm excluded)"]
    for c, r in rob["categories"].items():
        lines.append(f"  {c:<24} {fmt_pct(r['rate']):>7} of {r['rows']:>3} rows")
    cal = audit["calibration"]
    lines.append("")
    if "skipped" in cal:
        lines.append(f"calibration: skipped ({cal['skipped']})")
    else:
        lines += [f"calibration ({cal['dataset']}, {cal['n']:,} texts): ECE {cal['ece']:.3f} "
                  f"(in-sample), accuracy {cal['accuracy']:.3f}",
                  f"  needs_review: {fmt_pct(cal['needs_review_share'])} flagged; error rate "
                  f"{fmt_pct(cal['error_rate_flagged'])} flagged, "
                  f"{fmt_pct(cal['error_rate_unflagged'])} not flagged"]
    lines += ["", "targets:"]
    for t in audit["targets"]:
        mark = "n/a " if t["met"] is None else "PASS" if t["met"] else "FAIL"
        lines.append(f"  {mark}  {t['target']}: {t['measured']} (goal {t['goal']})")
    return "\n".join(lines) + "\n"


# -- files --------------------------------------------------------------------------------

def _json_safe(value: Any) -> Any:
    """NaN and infinities as None, so the JSON is standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_report(audit: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """Write ``audit.json``, the PNG plots, ``audit.md`` and ``audit.html`` (plots
    embedded) into ``out_dir``; returns what was written, by kind."""
    import json

    from frankly.audit.plots import write_plots

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    images = write_plots(audit, out)
    report = blocks(audit, images)
    paths = {"json": out / "audit.json", "markdown": out / "audit.md",
             "html": out / "audit.html"}
    paths["json"].write_text(json.dumps(_json_safe(audit), indent=1) + "\n", encoding="utf-8")
    paths["markdown"].write_text(to_markdown(report), encoding="utf-8")
    paths["html"].write_text(to_html(report, out), encoding="utf-8")
    paths.update({name: out / file for name, file in images.items()})
    return paths
