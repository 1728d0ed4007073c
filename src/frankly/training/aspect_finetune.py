"""Teach the accurate model's encoder aspects, beside its sentiment (needs torch).

One encoder serves both: the sentiment head reads the mean-pooled token states as before;
two new heads read each token's state: ``aspect_tags`` (O, B, I: is the token part of an
aspect term) and ``aspect_polarity`` (the sentiment towards a term, averaged over its
tokens). Training continues from a fine-tuned sentiment state, interleaving batches of
the sentiment mix (so sentiment is kept) with batches of aspect-annotated sentences.
At run time one onnxruntime call gives the sentiment, the token scores and the aspects.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

from frankly.result import LABELS
from frankly.text.normalize import normalize, normalize_with_offsets
from frankly.training.absa import AspectSentence
from frankly.training.finetune import (FinetuneConfig, _require_torch, base_model_dir,
                                       build_classifier, load_tokenizer, macro_recall,
                                       optimizer, predict_logits)

TAGS = ("O", "B", "I")
HIDDEN = 384


@dataclass
class AspectConfig(FinetuneConfig):
    """The fine-tuning settings, plus the aspect losses' (a later stage: lower lr)."""

    epochs: int = 3
    lr: float = 2e-5
    aspect_weight: float = 1.0   # the aspect losses' weight against the sentiment loss
    tag_weights: tuple[float, float, float] = (1.0, 2.0, 2.0)  # O, B, I: terms are rare


def build_multitask(base_dir: Path):
    """The sentiment classifier plus the two token heads."""
    import torch

    class MultiTask(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.classifier = build_classifier(base_dir)
            self.tagger = torch.nn.Linear(HIDDEN, len(TAGS))
            self.polarity = torch.nn.Linear(HIDDEN, len(LABELS))

        def states(self, input_ids, attention_mask):
            return self.classifier.encoder(input_ids=input_ids,
                                           attention_mask=attention_mask)[0]

        def forward(self, input_ids, attention_mask):
            hidden = self.states(input_ids, attention_mask)
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            c = self.classifier
            return c.head(c.dropout(pooled)), self.tagger(hidden), self.polarity(hidden)

    return MultiTask()


def load_multitask(state_path: Path, base_dir: Path | None = None):
    """A MultiTask from a multitask state, or from a sentiment-only state (new heads)."""
    import torch

    model = build_multitask(base_dir or base_model_dir())
    state = torch.load(state_path, weights_only=True)
    if any(k.startswith("tagger.") for k in state):
        model.load_state_dict(state)
    else:
        model.classifier.load_state_dict(state)
    return model


@dataclass
class Encoded:
    ids: list[int]
    tags: list[int]                       # per token; -1 where no loss (special tokens)
    terms: list[tuple[list[int], int]]    # token indices of each term, its polarity


def encode_sentence(tok, sentence: AspectSentence) -> Encoded:
    """Tokens of the normalised sentence with BIO tags from the gold character spans."""
    mapped = normalize_with_offsets(sentence.text, emoji=True)
    enc = tok.encode(mapped.text)
    spans = []
    for (a, b), special in zip(enc.offsets, enc.special_tokens_mask):
        spans.append(None if special or b <= a else mapped.span(a, b))
    tags = [-1 if s is None else 0 for s in spans]
    terms = []
    for t in sentence.terms:
        inside = [j for j, s in enumerate(spans) if s is not None
                  and s[0] >= t.start and s[1] <= t.end]
        for k, j in enumerate(inside):
            tags[j] = 1 if k == 0 else 2
        if inside and t.polarity in LABELS:
            terms.append((inside, LABELS.index(t.polarity)))
    return Encoded(list(enc.ids), tags, terms)


def finetune_aspects(sentiment: Sequence[tuple[str, str]], aspects: Sequence[AspectSentence],
                     val: Sequence[tuple[str, str]], out_dir: Path,
                     evaluate: Callable[[object, object], dict[str, float]],
                     config: AspectConfig | None = None,
                     log: Callable[[str], None] = print) -> list[dict]:
    """Train; after each epoch save ``epoch-N/state.pt`` and ``dev_logits.npy`` (TweetEval
    val) and record val macro-recall plus ``evaluate(model, tokenizer)``'s numbers (aspect
    dev scores) in ``history.json``. Returns the history."""
    _require_torch()
    import numpy as np
    import torch

    config = config or AspectConfig()
    base_dir = base_model_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(config.threads)
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    tok = load_tokenizer(base_dir, config.max_length)
    model = load_multitask(Path(config.init_state), base_dir) if config.init_state \
        else build_multitask(base_dir)
    encoded = [encode_sentence(tok, s) for s in aspects]
    texts = [t for t, _ in sentiment]
    labels = [LABELS.index(y) for _, y in sentiment]

    n_sent = math.ceil(len(texts) / config.batch_size)
    n_asp = math.ceil(len(encoded) / config.batch_size)
    opt, sched = optimizer(model, config, (n_sent + n_asp) * config.epochs)
    ce = torch.nn.CrossEntropyLoss()
    tag_ce = torch.nn.CrossEntropyLoss(weight=torch.tensor(config.tag_weights),
                                       ignore_index=-1)
    history: list[dict] = []
    for epoch in range(config.epochs):
        model.train()
        t0 = time.time()
        order = list(range(len(texts)))
        rng.shuffle(order)
        aorder = list(range(len(encoded)))
        rng.shuffle(aorder)
        plan = ["s"] * n_sent + ["a"] * n_asp
        rng.shuffle(plan)
        si = ai = 0
        running = {"s": 0.0, "a": 0.0}
        for step, kind in enumerate(plan, 1):
            if kind == "s":
                chunk = order[si:si + config.batch_size]
                si += config.batch_size
                encs = tok.encode_batch([normalize(texts[i], emoji=True) for i in chunk])
                ids, mask = _pad([e.ids for e in encs])
                logits, _, _ = model(ids, mask)
                loss = ce(logits, torch.tensor([labels[i] for i in chunk]))
            else:
                chunk = aorder[ai:ai + config.batch_size]
                ai += config.batch_size
                rows = [encoded[i] for i in chunk]
                ids, mask = _pad([r.ids for r in rows])
                hidden = model.states(ids, mask)
                width = ids.shape[1]
                tags = torch.tensor([r.tags + [-1] * (width - len(r.tags)) for r in rows])
                loss = tag_ce(model.tagger(hidden).reshape(-1, len(TAGS)), tags.reshape(-1))
                pooled, targets = [], []
                for b, r in enumerate(rows):
                    for idx, polarity in r.terms:
                        pooled.append(hidden[b, idx].mean(0))
                        targets.append(polarity)
                if pooled:
                    loss = loss + ce(model.polarity(torch.stack(pooled)),
                                     torch.tensor(targets))
                loss = loss * config.aspect_weight
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            running[kind] += loss.item()
            if step % 100 == 0:
                rate = (time.time() - t0) / step
                log(f"epoch {epoch + 1} step {step}/{len(plan)} {rate:.2f}s/step "
                    f"eta {rate * (len(plan) - step) / 60:.1f} min")
        model.eval()
        val_logits = predict_logits(_SentimentView(model), tok, [t for t, _ in val])
        record = {"epoch": epoch + 1, "minutes": (time.time() - t0) / 60,
                  "dev_macro_recall": macro_recall([LABELS.index(y) for _, y in val],
                                                   val_logits.argmax(1).tolist()),
                  **evaluate(model, tok), "config": asdict(config)}
        ep_dir = out_dir / f"epoch-{epoch + 1}"
        ep_dir.mkdir(exist_ok=True)
        torch.save(model.state_dict(), ep_dir / "state.pt")
        np.save(ep_dir / "dev_logits.npy", val_logits)
        history.append(record)
        (out_dir / "history.json").write_text(json.dumps(history, indent=2))
        log(json.dumps({k: v for k, v in record.items() if k != "config"}))
    return history


class _SentimentView:
    """The multitask model seen as the sentiment classifier (for predict_logits)."""

    def __init__(self, model) -> None:  # type: ignore[no-untyped-def]
        self.model = model

    def eval(self) -> None:
        self.model.eval()

    def __call__(self, ids, mask):  # type: ignore[no-untyped-def]
        return self.model(ids, mask)[0]


def _pad(rows: list[list[int]]):
    import torch

    width = max(len(r) for r in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r)
        mask[i, :len(r)] = 1
    return ids, mask
