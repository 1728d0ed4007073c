"""The audit's plots as PNG files (matplotlib, from the ``audit`` extra).

Figures are drawn with :class:`matplotlib.figure.Figure` directly, never pyplot, so no
backend or global state is touched. PNGs carry no timestamp, so the same audit draws the
same bytes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from frankly.errors import MissingDependencyError

AUDIT_EXTRA = "the audit's plots need matplotlib: pip install 'frankly[audit]'"
DPI = 100
PNG_METADATA = {"Software": None}  # no version stamp: same numbers, same file


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingDependencyError(AUDIT_EXTRA) from exc
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def require_matplotlib() -> None:
    """Raise MissingDependencyError (naming the extra) when matplotlib is missing."""
    _figure(1, 1)


def _save(fig: Any, path: Path) -> None:
    fig.savefig(path, format="png", metadata=PNG_METADATA)


def bias_plot(bias: dict[str, Any], path: Path) -> None:
    """Mean score difference per template, gender and race side by side, with 95% CIs and
    the target band."""
    from frankly.audit.bias import AXES, MAX_MEAN_DIFFERENCE

    templates = list(dict.fromkeys(r["group"] for a in bias["axes"].values()
                                   for r in a["breakdowns"]["template"]))
    fig = _figure(10, 0.45 * len(templates) + 1.6)
    axes = fig.subplots(1, len(AXES), sharey=True, squeeze=False)[0]
    for ax, (axis, spec) in zip(axes, AXES.items()):
        rows = {r["group"]: r for r in bias["axes"][axis]["breakdowns"]["template"]}
        ys, xs, lo, hi = [], [], [], []
        for i, t in enumerate(templates):
            r = rows.get(t)
            if r is None or math.isnan(r["mean_difference"]):
                continue
            ys.append(i)
            xs.append(r["mean_difference"])
            ci_ok = not math.isnan(r["ci_low"])
            lo.append(r["mean_difference"] - r["ci_low"] if ci_ok else 0.0)
            hi.append(r["ci_high"] - r["mean_difference"] if ci_ok else 0.0)
        ax.axvspan(-MAX_MEAN_DIFFERENCE, MAX_MEAN_DIFFERENCE, color="#d9f0d9",
                   label=f"target ±{MAX_MEAN_DIFFERENCE}")
        ax.axvline(0.0, color="#888", linewidth=0.8)
        ax.errorbar(xs, ys, xerr=[lo, hi], fmt="o", color="#1f4e79", capsize=3)
        overall = bias["axes"][axis]["overall"]["mean_difference"]
        ax.axvline(overall, color="#c0392b", linestyle="--", linewidth=1,
                   label=f"all pairs {overall:+.4f}")
        ax.set_title(f"{axis}: {spec['short']}", fontsize=10)
        ax.set_xlabel("mean difference in positive - negative score")
        ax.locator_params(axis="x", nbins=5)
        ax.legend(fontsize=8, loc="best")
    axes[0].set_yticks(range(len(templates)))
    axes[0].set_yticklabels([t if len(t) <= 48 else t[:45] + "..." for t in templates],
                            fontsize=8)
    axes[0].invert_yaxis()
    _save(fig, path)


def probes_plot(robustness: dict[str, Any], path: Path) -> None:
    """Probe rows passed per category, with the overall target."""
    cats = list(robustness["categories"])
    fig = _figure(7, 0.35 * len(cats) + 1.4)
    ax = fig.subplots()
    rates = [100 * robustness["categories"][c]["rate"] for c in cats]
    ax.barh(range(len(cats)), rates, color="#1f4e79")
    ax.axvline(100 * robustness["target"], color="#c0392b", linestyle="--", linewidth=1,
               label=f"overall target {robustness['target']:.0%}")
    ax.set_yticks(range(len(cats)))
    ax.set_yticklabels(cats, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("probe rows passed (%)")
    ax.legend(fontsize=8, loc="lower right")
    _save(fig, path)


def reliability_plot(calibration: dict[str, Any], path: Path) -> None:
    """Accuracy against mean confidence per bin (the diagonal is perfect calibration),
    with the number of texts per bin below."""
    bins = calibration["reliability"]
    fig = _figure(5.5, 6)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    width = 1.0 / calibration["bins"]
    centers = [(b["low"] + b["high"]) / 2 for b in bins]
    top.bar(centers, [b["accuracy"] for b in bins], width=width * 0.9, color="#1f4e79",
            label="accuracy")
    top.plot([0, 1], [0, 1], color="#888", linestyle="--", linewidth=1, label="perfect")
    top.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o",
             color="#c0392b", markersize=4, label="mean confidence")
    top.set_ylabel("accuracy of the top label")
    top.set_ylim(0, 1)
    top.set_title(f"{calibration['dataset']}: ECE {calibration['ece']:.3f}", fontsize=10)
    top.legend(fontsize=8, loc="upper left")
    bottom.bar(centers, [b["n"] for b in bins], width=width * 0.9, color="#7f8c8d")
    bottom.set_ylabel("texts")
    bottom.set_xlabel("confidence (top calibrated score)")
    bottom.set_xlim(0, 1)
    _save(fig, path)


def write_plots(audit: dict[str, Any], out_dir: Path) -> dict[str, str]:
    """Draw every plot the audit has data for into ``out_dir``; returns name -> file name."""
    require_matplotlib()
    images: dict[str, str] = {}
    if "skipped" not in audit["bias"]:
        bias_plot(audit["bias"], out_dir / "bias.png")
        images["bias"] = "bias.png"
    probes_plot(audit["robustness"], out_dir / "probes.png")
    images["probes"] = "probes.png"
    if "skipped" not in audit["calibration"]:
        reliability_plot(audit["calibration"], out_dir / "reliability.png")
        images["reliability"] = "reliability.png"
    return images
