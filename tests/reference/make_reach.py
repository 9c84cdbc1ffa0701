"""Architectures scientists train, reduced to small widths, for tests/io/test_reach.cpp.

Run with Debian's python3-torch 1.13 / python3-torchvision 0.14 / python3-onnx:
    /usr/bin/python3 tests/reference/make_reach.py

Each model is built from torchvision's own building blocks (random weights from
fixed seeds, batch-norm statistics randomised, eval mode) and exported with
torch.onnx.export at opsets 13 and 17 with a dynamic batch axis "N" to
data/reach/<m>_o13.onnx and <m>_o17.onnx. data/reach/<m>.txt holds
    x, y     a batch of 3 inputs and PyTorch's outputs,
    x1, y1   a batch of 1,
    u, dx    an output cotangent and the input gradient of sum(y * u) (autograd).

unsupported.onnx (onnx.helper) holds nodes trim cannot read (and two it follows), for
check_onnx and `trim info`: an Einsum, a Transpose moving the batch axis, a
Relu fed by it (followed on the moved layout), an LSTM, and a Mod on data.

Models:
    effnet      EfficientNet-B0's stem and two MBConv blocks (SiLU, squeeze-
                excitation: Mul of two data inputs), head, pooling, classifier
    regnety     RegNetY's ResBottleneckBlock with squeeze-excitation (ReLU, Sigmoid)
    mobilenetv3 MobileNetV3's InvertedResidual blocks with Hardswish and the
                Hardsigmoid SE gate (HardSigmoid at opset 13, HardSwish at 17)
    convnext    ConvNeXt's stem (Conv + LayerNorm2d), CNBlock (depthwise conv,
                permute, LayerNorm, Linear, GELU via Erf, layer scale), head
    mlp         an MLP with LayerNorm, GELU (exact and tanh form), SiLU, Mish,
                Hardswish and a quotient of data (x / (1 + |h|))
    encoder     nn.TransformerEncoderLayer (batch_first, GELU) + mean + Linear: its
                export moves the batch axis and merges it with the heads
                (sequence-first attention inside; see make_attention.py)
    attention   a pre-norm self-attention block written out (batch first): q·kᵀ
                and weights·v are MatMuls of two data tensors, softmax over the
                last axis inside the network, a mean over the sequence, a GELU MLP
"""
import io
import math
import os
from functools import partial

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import convnext, efficientnet, mobilenetv3, regnet

from fixture import randomise_norms, write_fixture

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "data", "reach")
os.makedirs(out, exist_ok=True)


def shorten_names(proto):
    """Renames every value but the graph's input and output to a short one and
    drops node names and value_info: the same graph, a quarter of the bytes
    for exports with a thousand shape nodes (Swin)."""
    g = proto.graph
    keep = {i.name for i in g.input} | {o.name for o in g.output}
    names = {}

    def short(n):
        if n == "" or n in keep:
            return n
        return names.setdefault(n, "v%x" % len(names))
    for t in g.initializer:
        t.name = short(t.name)
    for n in g.node:
        n.name = ""
        n.input[:] = [short(v) for v in n.input]
        n.output[:] = [short(v) for v in n.output]
    del g.value_info[:]
    return proto


def export(name, model, x, short_names=False):
    model.eval()
    for opset in (13, 17):
        f = io.BytesIO()
        torch.onnx.export(model, x, f, opset_version=opset, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
        proto = onnx.load_from_string(f.getvalue())
        if short_names:
            proto = shorten_names(proto)
        onnx.checker.check_model(proto)
        path = os.path.join(out, "%s_o%d.onnx" % (name, opset))
        with open(path, "wb") as fh:
            fh.write(proto.SerializeToString() if short_names else f.getvalue())
        size = os.path.getsize(path)
        assert size < 200_000, (path, size)
        ops = sorted({n.op_type for n in proto.graph.node})
        print("%-24s %7d bytes  %s" % (os.path.basename(path), size, " ".join(ops)))
    xg = x.detach().clone().requires_grad_(True)
    y = model(xg)
    g = torch.Generator().manual_seed(1234)
    u = torch.randn(y.shape, generator=g)
    (y * u).sum().backward()
    x1 = x[:1] * -0.7 + 0.1
    with torch.no_grad():
        y1 = model(x1)
    write_fixture(os.path.join(out, name + ".txt"),
                  {"x": x, "y": y.detach(), "x1": x1, "y1": y1, "u": u, "dx": xg.grad},
                  comment="%s: y = model(x), y1 = model(x1), u = output cotangent, dx = d sum(y*u) / dx" % name)


def image(seed, c=3, h=10, w=10, n=3):
    return torch.randn(n, c, h, w, generator=torch.Generator().manual_seed(seed))


# ---- EfficientNet-B0 ------------------------------------------------------------------------

class EffNet(nn.Module):
    def __init__(self):
        super().__init__()
        bn = partial(nn.BatchNorm2d, eps=1e-3)
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), bn(8), nn.SiLU())
        self.blocks = nn.Sequential(
            efficientnet.MBConv(efficientnet.MBConvConfig(1, 3, 1, 8, 8, 1), 0.0, bn),
            efficientnet.MBConv(efficientnet.MBConvConfig(4, 3, 2, 8, 16, 1), 0.0, bn))
        self.head = nn.Sequential(nn.Conv2d(16, 16, 1, bias=False), bn(16), nn.SiLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.head(self.blocks(self.stem(x)))), 1))


# ---- RegNetY ---------------------------------------------------------------------------------

class RegNetY(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.block = regnet.ResBottleneckBlock(8, 16, 2, nn.BatchNorm2d, nn.ReLU, group_width=8,
                                               bottleneck_multiplier=1.0, se_ratio=0.25)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc(self.block(self.stem(x)).mean((2, 3)))


# ---- MobileNetV3 -----------------------------------------------------------------------------

class MobileNetV3(nn.Module):
    def __init__(self):
        super().__init__()
        cfg = mobilenetv3.InvertedResidualConfig
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.Hardswish())
        self.blocks = nn.Sequential(
            mobilenetv3.InvertedResidual(cfg(8, 3, 8, 8, True, "RE", 1, 1, 1.0), nn.BatchNorm2d),
            mobilenetv3.InvertedResidual(cfg(8, 3, 24, 16, True, "HS", 2, 1, 1.0), nn.BatchNorm2d),
            mobilenetv3.InvertedResidual(cfg(16, 5, 32, 16, True, "HS", 1, 1, 1.0), nn.BatchNorm2d))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 16), nn.Hardswish(),
                                  nn.Linear(16, 4))

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


# ---- ConvNeXt --------------------------------------------------------------------------------

class ConvNeXt(nn.Module):
    def __init__(self):
        super().__init__()
        ln2d = partial(convnext.LayerNorm2d, eps=1e-6)
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 4, 4), ln2d(8))
        self.block = convnext.CNBlock(8, 0.5, 0.0)
        self.down = nn.Sequential(ln2d(8), nn.Conv2d(8, 12, 2, 2))
        self.block2 = convnext.CNBlock(12, 0.5, 0.0)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), ln2d(12), nn.Flatten(1), nn.Linear(12, 4))

    def forward(self, x):
        return self.head(self.block2(self.down(self.block(self.stem(x)))))


# ---- MLP with LayerNorm + GELU -------------------------------------------------------------

class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 16)
        self.ln1 = nn.LayerNorm(16)
        self.fc2 = nn.Linear(16, 16)
        self.ln2 = nn.LayerNorm(16)
        self.fc3 = nn.Linear(16, 12)
        self.fc4 = nn.Linear(12, 3)

    def forward(self, x):
        h = F.gelu(self.ln1(self.fc1(x)))
        h = F.gelu(self.fc2(h), approximate="tanh") + F.silu(h)
        h = F.mish(self.ln2(h)) + F.hardswish(h)
        h = self.fc3(h)
        h = h / (1.0 + h * h)
        return self.fc4(h)


# ---- self-attention block ---------------------------------------------------------------

class Attention(nn.Module):
    def __init__(self, d=8, heads=2, length=6):
        super().__init__()
        self.d, self.h, self.L = d, heads, length
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.fc = nn.Linear(d, 3)

    def forward(self, x):
        n = x.shape[0]
        hd = self.d // self.h
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        q = q.reshape(n, self.L, self.h, hd).transpose(1, 2)
        k = k.reshape(n, self.L, self.h, hd).transpose(1, 2)
        v = v.reshape(n, self.L, self.h, hd).transpose(1, 2)
        att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(hd), dim=-1)
        o = (att @ v).transpose(1, 2).reshape(n, self.L, self.d)
        x = x + self.proj(o)
        x = x + self.mlp(self.ln2(x))
        return self.fc(x.mean(1))


def unsupported():
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(8)
    wl = numpy_helper.from_array(rng.standard_normal((1, 16, 4)).astype(np.float32), "lstm.W")
    rl = numpy_helper.from_array(rng.standard_normal((1, 16, 4)).astype(np.float32), "lstm.R")
    two = numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two")
    shape = numpy_helper.from_array(np.array([0, 2, 16], dtype=np.int64), "shape")
    nodes = [
        helper.make_node("Einsum", ["x", "x"], ["u"], name="mix", equation="nchw,nchw->nc"),
        helper.make_node("Relu", ["x"], ["r"], name="act"),
        helper.make_node("Transpose", ["r"], ["t"], name="seq_first", perm=[1, 0, 2, 3]),
        helper.make_node("Relu", ["t"], ["t2"], name="after_transpose"),
        helper.make_node("Reshape", ["x", "shape"], ["s"], name="seq"),
        helper.make_node("LSTM", ["s", "lstm.W", "lstm.R"], ["h"], name="lstm", hidden_size=4),
        helper.make_node("Mod", ["x", "two"], ["m"], name="window", fmod=1),
        helper.make_node("Add", ["x", "x"], ["y"], name="ok"),
    ]
    graph = helper.make_graph(nodes, "unsupported",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2, 4, 4])],
                              [wl, rl, two, shape])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, os.path.join(out, "unsupported.onnx"))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, activation="gelu")
        self.fc = nn.Linear(8, 3)
        with torch.no_grad():  # torch zero-initialises the attention biases: at x = 0 the LayerNorm
            self.enc.self_attn.in_proj_bias.normal_(0.0, 0.3)  # would see a zero-variance input (an
            self.enc.self_attn.out_proj.bias.normal_(0.0, 0.3)  # ill-conditioned zero baseline)

    def forward(self, x):
        return self.fc(self.enc(x).mean(1))


if __name__ == "__main__":
    unsupported()
    torch.manual_seed(0)
    for name, make, x in [
        ("effnet", EffNet, image(1)),
        ("regnety", RegNetY, image(2)),
        ("mobilenetv3", MobileNetV3, image(3)),
        ("convnext", ConvNeXt, image(4, h=12, w=12)),
        ("mlp", Mlp, torch.randn(3, 10, generator=torch.Generator().manual_seed(5))),
        ("attention", Attention, torch.randn(3, 6, 8, generator=torch.Generator().manual_seed(6))),
        ("encoder", Encoder, torch.randn(3, 6, 8, generator=torch.Generator().manual_seed(7))),
    ]:
        torch.manual_seed(sum(map(ord, name)))
        model = make()
        randomise_norms(model, 7)
        model.eval()
        export(name, model, x)
