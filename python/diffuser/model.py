"""The C++ model (nn/Model.hpp) in PyTorch, built on the diffuser op, with the same parameter
names and shapes, so checkpoints of `diffuser train` load into it and its weights export for
`diffuser eval` (diffuser.checkpoint, docs/python.md).

Architecture (docs/nn.md): token + position embeddings (post-LN: then a LayerNorm "embed.ln"),
``layers`` encoder layers (attention block ``.attn.{q,k,v,out}`` [+ ``.attn.theta``], LayerNorms
``.ln1``/``.ln2``, MLP ``.mlp.fc1``/``.mlp.fc2`` with exact-erf GELU; pre-LN
``x + Attn(LN(x))`` with a final LayerNorm "final_ln", or post-LN ``LN(x + Attn(x))``),
pooling (token 0 or the mean over valid tokens), and the head (``head.dense`` + tanh when
head_hidden > 0, then ``head.out``). The causal LM predicts at every position over a causal
pattern. Dropout (embeddings, attention output, MLP output) uses torch's RNG; attention dropout
uses the core's counter-based masks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import checkpoint as _checkpoint
from ._core import Diffusion
from .torch import DiffuserAttention

__all__ = ["DiffuserModel", "ModelConfig", "diffusion_from_config", "export_model",
           "load_model", "model_config_from_meta"]


@dataclass
class ModelConfig:
    """The fields of the C++ ModelConfig (nn/ModelConfig.hpp); names as in experiment configs."""

    vocab: int
    num_classes: int
    max_len: int
    kind: str = "classifier"  # classifier | causal_lm
    layers: int = 2
    dim: int = 64
    heads: int = 4
    mlp_dim: int = 128
    norm: str = "pre"  # pre | post
    ln_eps: float = 1e-5
    dropout: float = 0.1
    pool: str = "cls"  # cls | mean
    head_hidden: int = 0
    variant: str = "diffuser"  # diffuser | sparse | full
    pattern: str = "window=4,global=1,random=4"
    diffusion: Diffusion = field(default_factory=lambda: Diffusion.ppr(0.1, 5))
    learn_theta: bool = False
    attention_dropout: float = 0.0
    seed: int = 0

    def theta(self) -> list[float]:
        return list(self.diffusion.theta) if self.variant == "diffuser" else [0.0, 1.0]

    def spec(self) -> str:
        spec = "full" if self.variant == "full" else self.pattern
        return spec + ",causal" if self.kind == "causal_lm" else spec


def diffusion_from_config(att: dict) -> Diffusion:
    """The diffusion of an experiment config's "attention" section (docs/configs.md)."""
    family = att.get("diffusion", "ppr")
    hops = int(att.get("hops", 5))
    if family == "ppr":
        return Diffusion.ppr(float(att.get("alpha", 0.1)), hops)
    if family == "heat":
        return Diffusion.heat(float(att.get("t", att.get("heat", 1.0))), hops)
    if family == "plain":
        return Diffusion.plain()
    if family == "theta":
        return Diffusion.from_coefficients([float(t) for t in att["theta"]])
    raise ValueError(f"attention.diffusion '{family}': expected ppr, heat, plain or theta")


class _Embed(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.token = nn.Parameter(torch.randn(c.vocab, c.dim) * 0.02)
        self.position = nn.Parameter(torch.randn(c.max_len, c.dim) * 0.02)
        if c.norm == "post":
            self.ln = nn.LayerNorm(c.dim, eps=c.ln_eps)


class _Mlp(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.fc1 = nn.Linear(c.dim, c.mlp_dim)
        self.fc2 = nn.Linear(c.mlp_dim, c.dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class _Layer(nn.Module):
    def __init__(self, c: ModelConfig, index: int):
        super().__init__()
        self.attn = DiffuserAttention(c.dim, c.heads, c.spec(), diffusion=c.theta(),
                                      dropout=c.attention_dropout,
                                      learn_theta=c.learn_theta and c.variant == "diffuser",
                                      seed=c.seed + index)
        self.ln1 = nn.LayerNorm(c.dim, eps=c.ln_eps)
        self.mlp = _Mlp(c)
        self.ln2 = nn.LayerNorm(c.dim, eps=c.ln_eps)
        self.pre = c.norm == "pre"
        self.drop = nn.Dropout(c.dropout)

    def forward(self, x: Tensor, lengths: Optional[Tensor]) -> Tensor:
        if self.pre:
            h = x + self.drop(self.attn(self.ln1(x), lengths=lengths))
            return h + self.drop(self.mlp(self.ln2(h)))
        h = self.ln1(x + self.drop(self.attn(x, lengths=lengths)))
        return self.ln2(h + self.drop(self.mlp(h)))


class _Head(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        width, classes = c.dim, c.num_classes
        hidden = 0 if c.kind == "causal_lm" else c.head_hidden
        if hidden > 0:
            self.dense = nn.Linear(width, hidden)
            width = hidden
        self.out = nn.Linear(width, classes)

    def forward(self, x: Tensor) -> Tensor:
        if hasattr(self, "dense"):
            x = torch.tanh(self.dense(x))
        return self.out(x)


class DiffuserModel(nn.Module):
    """Classifier or causal LM of the C++ trainer. ``forward(tokens [B, n] int64, lengths [B])``
    returns logits [B, classes] (classifier) or [B, n, vocab] (causal LM)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        if config.kind not in ("classifier", "causal_lm"):
            raise ValueError(f"model kind '{config.kind}': the PyTorch model covers classifier "
                             "and causal_lm (the dual encoder is C++ only)")
        self.config = c = config
        self.embed = _Embed(c)
        self.drop = nn.Dropout(c.dropout)
        self.layers = nn.ModuleList(_Layer(c, i) for i in range(c.layers))
        if c.norm == "pre":
            self.final_ln = nn.LayerNorm(c.dim, eps=c.ln_eps)
        self.head = _Head(c)
        self.reset_parameters()

    def reset_parameters(self, std: float = 0.02) -> None:
        """Normal(0, std) weights and embeddings, zero biases, unit LayerNorms (BERT-style)."""
        for name, p in self.named_parameters():
            if name.endswith(".theta"):
                continue
            if ".ln" in name or name.startswith("final_ln") or ".ln." in name:
                nn.init.ones_(p) if name.endswith("weight") else nn.init.zeros_(p)
            elif name.endswith("bias"):
                nn.init.zeros_(p)
            else:
                nn.init.normal_(p, std=std)

    def encode(self, tokens: Tensor, lengths: Optional[Tensor] = None) -> Tensor:
        n = tokens.shape[1]
        if n > self.config.max_len:
            raise ValueError(f"sequence length {n} exceeds max_len = {self.config.max_len}")
        x = self.embed.token[tokens] + self.embed.position[:n][None]
        if self.config.norm == "post":
            x = self.embed.ln(x)
        x = self.drop(x)
        for layer in self.layers:
            x = layer(x, lengths)
        if self.config.norm == "pre":
            x = self.final_ln(x)
        return x

    def forward(self, tokens: Tensor, lengths: Optional[Tensor] = None) -> Tensor:
        x = self.encode(tokens, lengths)
        if self.config.kind == "causal_lm":
            return self.head(x)
        if self.config.pool == "cls":
            pooled = x[:, 0]
        else:
            n = tokens.shape[1]
            lens = (torch.full((x.shape[0],), n, device=x.device) if lengths is None
                    else lengths.to(x.device))
            valid = (torch.arange(n, device=x.device)[None, :] < lens[:, None]).to(x.dtype)
            pooled = (x * valid[..., None]).sum(1) / lens[:, None].to(x.dtype)
        return self.head(pooled)

    def cpp_parameters(self) -> dict[str, Tensor]:
        """The parameters under their C++ names (the checkpoint's "param/<name>" tensors)."""
        return {name: p for name, p in self.named_parameters()}


def model_config_from_meta(meta: dict) -> ModelConfig:
    """The ModelConfig of a checkpoint written by `diffuser train` (meta["config"] holds the
    resolved experiment config, meta["task"] the task shape)."""
    try:
        model, att, task = meta["config"]["model"], meta["config"]["attention"], meta["task"]
    except KeyError as e:
        raise ValueError(f"not a checkpoint of `diffuser train`: no {e} in its metadata") from None
    return ModelConfig(
        vocab=int(task["vocab"]), num_classes=int(task["num_classes"]),
        max_len=int(task["max_len"]), kind=task["kind"], layers=int(model["layers"]),
        dim=int(model["dim"]), heads=int(model["heads"]), mlp_dim=int(model["mlp_dim"]),
        norm=model["norm"], ln_eps=float(model["ln_eps"]), dropout=float(model["dropout"]),
        pool=model["pool"], variant=att["variant"], pattern=att["pattern"],
        diffusion=diffusion_from_config(dict(att, t=att.get("heat_t", 1.0))),
        learn_theta=bool(att.get("learn_theta", False)),
        attention_dropout=float(att.get("dropout", 0.0)),
        seed=int(meta["config"].get("train", {}).get("seed", 0)))


def load_model(path, dtype: torch.dtype = torch.float32) -> tuple[DiffuserModel, dict]:
    """(model, meta): the PyTorch model of a `diffuser train` checkpoint with its weights
    ("param/<name>" tensors, all of them, shapes checked); AdamW moments are ignored."""
    meta, tensors = _checkpoint.load(path)
    model = DiffuserModel(model_config_from_meta(meta)).to(dtype)
    params = dict(model.named_parameters())
    stored = {k[len("param/"):]: v for k, v in tensors.items() if k.startswith("param/")}
    missing, extra = sorted(set(params) - set(stored)), sorted(set(stored) - set(params))
    if missing or extra:
        raise ValueError(f"{path}: parameters differ from the model: missing {missing}, "
                         f"unexpected {extra}")
    with torch.no_grad():
        for name, p in params.items():
            if tuple(stored[name].shape) != tuple(p.shape):
                raise ValueError(f"{path}: param/{name} has shape {list(stored[name].shape)}, "
                                 f"the model needs {list(p.shape)}")
            p.copy_(torch.from_numpy(stored[name]))
    return model, meta


def export_model(path, model: DiffuserModel, meta: dict, step: Optional[int] = None) -> None:
    """Writes the model's parameters (float32, C++ names) with `meta` (at least "config" and
    "task" as `diffuser train` writes them, e.g. the meta of load_model) so `diffuser eval
    --checkpoint path` evaluates it. meta["trainer"]["step"] is set to `step` when given.
    Optimizer moments are not written: the file evaluates, it does not resume training."""
    out = {k: v for k, v in meta.items() if k not in ("adamw",)}
    trainer = dict(out.get("trainer", {}))
    if step is not None:
        trainer["step"] = int(step)
    out["trainer"] = trainer
    tensors = {f"param/{n}": p.detach().to(torch.float32).cpu().numpy()
               for n, p in model.named_parameters()}
    _checkpoint.save(path, out, tensors)
