"""PyTorch reference values for the "reach" ops and models: transposed
convolutions, resizing, 3-D convolution and pooling, and small models that use
them (U-Net-style regressor, 3-D CNN, 1-D ConvTranspose net, token classifier).

Run with Debian's python3-torch 1.13 / python3-onnx:
    /usr/bin/python3 tests/reference/make_reach_ops.py

Kernel fixtures go to data/reach/<op>_<case>.txt: the configuration (tensor
`config`, layout in each section below), the inputs, the output y, a random
output cotangent u and the gradients of <u, y>. Values are float64 from the
float32 inputs. Asymmetric paddings (which torch's layers do not take) are
applied with F.pad / by cropping around an unpadded torch call.
"""
import io
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

from fixture import write_fixture

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "data", "reach")
os.makedirs(out, exist_ok=True)


def save(name, tensors, comment):
    write_fixture(os.path.join(out, name + ".txt"), tensors, comment=comment)


def grads(y, inputs, seed):
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(y.shape, generator=g, dtype=torch.float32).double()
    y.backward(u)
    return u, [t.grad for t in inputs]


# ---- ConvTranspose ---------------------------------------------------------------
# name: (batch, c_in, spatial, c_out, kernel, stride, pads, output_padding, dilation, groups, bias)
# pads {top, left, bottom, right} (2-D) or {left, right} (1-D), removed from the output.
# config = [stride(2), pads(4), output_padding(2), dilation(2), groups, bias] in 2-D form
# (1-D: height entries stride 1, pads 0, output_padding 0, dilation 1).
CONVT = {
    "2d_basic": (2, 3, (5, 6), 4, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), (1, 1), 1, True),
    "2d_groups": (2, 4, (4, 5), 6, (3, 2), (2, 3), (0, 1, 1, 0), (1, 2), (1, 1), 2, True),
    "2d_dilated": (3, 2, (5, 4), 3, (2, 3), (1, 2), (2, 0, 1, 1), (0, 1), (2, 1), 1, False),
    "2d_k2s2": (2, 5, (3, 4), 3, (2, 2), (2, 2), (0, 0, 0, 0), (0, 0), (1, 1), 1, True),
    "1d_basic": (2, 3, (7,), 2, (4,), (3,), (1, 2), (2,), (1,), 1, True),
    "1d_depthwise": (3, 4, (6,), 4, (3,), (2,), (0, 0), (1,), (2,), 4, False),
}


def make_convt(name, spec, seed):
    n, cin, spatial, cout, kernel, stride, pads, opad, dil, groups, bias = spec
    dim = len(spatial)
    torch.manual_seed(seed)
    layer = (nn.ConvTranspose1d if dim == 1 else nn.ConvTranspose2d)(
        cin, cout, kernel, stride=stride, dilation=dil, groups=groups, bias=bias, output_padding=opad)
    x = torch.randn(n, cin, *spatial).double().requires_grad_(True)
    w = layer.weight.detach().double().requires_grad_(True)
    b = layer.bias.detach().double().requires_grad_(True) if bias else None
    f = F.conv_transpose1d if dim == 1 else F.conv_transpose2d
    full = f(x, w, b, stride=stride, output_padding=opad, dilation=dil, groups=groups)
    if dim == 1:
        y = full[:, :, pads[0]:full.shape[2] - pads[1]]
        cfg = [1, stride[0], 0, pads[0], 0, pads[1], 0, opad[0], 1, dil[0]]
    else:
        top, left, bottom, right = pads
        y = full[:, :, top:full.shape[2] - bottom, left:full.shape[3] - right]
        cfg = list(stride) + list(pads) + list(opad) + list(dil)
    cfg += [groups, int(bias)]
    ins = [x, w] + ([b] if bias else [])
    u, gs = grads(y, ins, seed + 1)
    t = {"config": torch.tensor(cfg, dtype=torch.float32), "x": x.detach(), "weight": w.detach(),
         "y": y.detach(), "u": u, "dx": gs[0], "dweight": gs[1]}
    if bias:
        t["bias"] = b.detach()
        t["dbias"] = gs[2]
    save("convt_" + name, t, "F.conv_transpose%dd '%s' cropped by pads; config = [stride(2), pads(4), "
         "output_padding(2), dilation(2), groups, bias]" % (dim, name))


# ---- Resize ----------------------------------------------------------------------
# name: (x shape, F.interpolate kwargs, ONNX description)
# config = [mode (0 nearest, 1 linear, 2 cubic), coordinates (0 half_pixel, 1 pytorch_half_pixel,
#           2 align_corners, 3 asymmetric), nearest (0 round_prefer_floor, 1 round_prefer_ceil,
#           2 floor, 3 ceil), scales(sd) (0 = from sizes), sizes(sd) (0 = from scales)]
RESIZE = {
    "nearest2x": ((2, 3, 5, 4), dict(scale_factor=2, mode="nearest"), [0, 3, 2], [2, 2], [0, 0]),
    "nearest_size": ((2, 2, 5, 4), dict(size=(7, 9), mode="nearest"), [0, 3, 2], [0, 0], [7, 9]),
    "nearest_down": ((1, 2, 9, 7), dict(size=(4, 3), mode="nearest"), [0, 3, 2], [0, 0], [4, 3]),
    "bilinear2x": ((2, 3, 4, 5), dict(scale_factor=2, mode="bilinear", align_corners=False), [1, 0, 0], [2, 2], [0, 0]),
    "bilinear_ac": ((2, 2, 5, 4), dict(size=(7, 3), mode="bilinear", align_corners=True), [1, 2, 0], [0, 0], [7, 3]),
    "bilinear_odd": ((1, 2, 5, 3), dict(scale_factor=(1.5, 2.5), mode="bilinear", align_corners=False), [1, 0, 0], [1.5, 2.5], [0, 0]),
    "bicubic": ((2, 2, 4, 5), dict(scale_factor=2, mode="bicubic", align_corners=False), [2, 0, 0], [2, 2], [0, 0]),
    "bicubic_ac": ((1, 2, 5, 4), dict(size=(6, 7), mode="bicubic", align_corners=True), [2, 2, 0], [0, 0], [6, 7]),
    "linear1d": ((2, 3, 6), dict(scale_factor=3, mode="linear", align_corners=False), [1, 0, 0], [3], [0]),
    "nearest1d": ((2, 2, 5), dict(size=8, mode="nearest"), [0, 3, 2], [0], [8]),
    "trilinear": ((2, 2, 3, 4, 3), dict(scale_factor=2, mode="trilinear", align_corners=False), [1, 0, 0], [2, 2, 2], [0, 0, 0]),
}


def make_resize(name, spec, seed):
    shape, kw, head, scales, sizes = spec
    torch.manual_seed(seed)
    x = torch.randn(*shape).double().requires_grad_(True)
    y = F.interpolate(x, **kw)
    u, (dx,) = grads(y, [x], seed + 1)
    cfg = head + list(scales) + list(sizes)
    save("resize_" + name, {"config": torch.tensor(cfg, dtype=torch.float32), "x": x.detach(), "y": y.detach(),
                            "u": u, "dx": dx},
         "F.interpolate(x, %s); config = [mode, coordinates, nearest, scales(sd), sizes(sd)]" % kw)


# ---- Conv3d ----------------------------------------------------------------------
# name: (batch, c_in, spatial, c_out, kernel, stride, pads(6: d0 h0 w0 d1 h1 w1), dilation, groups, bias)
# config = [stride(3), pads(6), dilation(3), groups, bias]
CONV3D = {
    "basic": (2, 2, (4, 5, 4), 3, (3, 3, 3), (1, 1, 1), (1, 1, 1, 1, 1, 1), (1, 1, 1), 1, True),
    "mixed": (2, 4, (5, 6, 4), 6, (3, 2, 3), (2, 1, 2), (1, 0, 1, 0, 1, 1), (1, 2, 1), 2, True),
    "pointwise": (3, 3, (2, 3, 4), 2, (1, 1, 1), (1, 1, 1), (0, 0, 0, 0, 0, 0), (1, 1, 1), 1, False),
    "dilated": (1, 2, (6, 5, 5), 2, (2, 3, 2), (2, 2, 1), (0, 1, 2, 1, 0, 0), (2, 1, 2), 1, True),
}


def make_conv3d(name, spec, seed):
    n, cin, spatial, cout, kernel, stride, pads, dil, groups, bias = spec
    torch.manual_seed(seed)
    layer = nn.Conv3d(cin, cout, kernel, stride=stride, dilation=dil, groups=groups, bias=bias)
    x = torch.randn(n, cin, *spatial).double().requires_grad_(True)
    w = layer.weight.detach().double().requires_grad_(True)
    b = layer.bias.detach().double().requires_grad_(True) if bias else None
    d0, h0, w0, d1, h1, w1 = pads
    xp = F.pad(x, (w0, w1, h0, h1, d0, d1))
    y = F.conv3d(xp, w, b, stride=stride, dilation=dil, groups=groups)
    ins = [x, w] + ([b] if bias else [])
    u, gs = grads(y, ins, seed + 1)
    t = {"config": torch.tensor(list(stride) + list(pads) + list(dil) + [groups, int(bias)], dtype=torch.float32),
         "x": x.detach(), "weight": w.detach(), "y": y.detach(), "u": u, "dx": gs[0], "dweight": gs[1]}
    if bias:
        t["bias"] = b.detach()
        t["dbias"] = gs[2]
    save("conv3d_" + name, t, "F.conv3d '%s' on F.pad; config = [stride(3), pads(6), dilation(3), groups, bias]" % name)


# ---- 3-D pooling ---------------------------------------------------------------------
# name: (max?, x shape, kernel, stride, pad (symmetric, per axis), ceil_mode, count_include_pad)
# config = [kernel(3), stride(3), pads(6), ceil_mode, count_include_pad]
POOL3D = {
    "max_basic": (True, (2, 3, 4, 6, 5), (2, 2, 2), (2, 2, 2), (0, 0, 0), False, True),
    "max_pad_ceil": (True, (2, 2, 5, 6, 7), (3, 2, 3), (2, 2, 1), (1, 1, 0), True, True),
    "avg_basic": (False, (2, 3, 4, 6, 5), (2, 3, 2), (2, 1, 2), (0, 0, 0), False, True),
    "avg_pad_incl": (False, (2, 2, 5, 5, 6), (3, 3, 2), (2, 2, 2), (1, 1, 1), True, True),
    "avg_pad_excl": (False, (1, 2, 5, 6, 5), (3, 2, 3), (1, 2, 2), (1, 1, 1), False, False),
}


def make_pool3d(name, spec, seed):
    is_max, shape, k, s, p, ceil, incl = spec
    torch.manual_seed(seed)
    x = torch.randn(*shape).double().requires_grad_(True)
    if is_max:
        y = F.max_pool3d(x, k, s, p, ceil_mode=ceil)
    else:
        y = F.avg_pool3d(x, k, s, p, ceil_mode=ceil, count_include_pad=incl)
    u, (dx,) = grads(y, [x], seed + 1)
    cfg = list(k) + list(s) + list(p) + list(p) + [int(ceil), int(incl)]
    save("pool3d_" + name, {"config": torch.tensor(cfg, dtype=torch.float32), "x": x.detach(), "y": y.detach(),
                            "u": u, "dx": dx},
         "F.%s_pool3d '%s'; config = [kernel(3), stride(3), pads(6), ceil_mode, count_include_pad]"
         % ("max" if is_max else "avg", name))


# ---- models -----------------------------------------------------------------------------
# Each model is exported at opsets 13 and 17 with a dynamic batch axis "N" to
# data/reach/<m>_op13.onnx / <m>_op17.onnx; data/reach/<m>.txt holds inputs at
# batch 1 (x1) and batch 3 (x3), PyTorch's outputs (y1, y3), fixed output
# cotangents (u1, u3), the input gradients of sum(y * u) (dx1, dx3) and the
# gradients of sum(y3 * u3) for a few parameters (grad.<name>).


class UNet(nn.Module):
    """U-Net-style regressor on 1x16x16: two encoder levels, a ConvTranspose2d
    and a nearest Upsample decoding the bottom level, skip concat, a bilinear
    downscale, global average pool and a linear head with 2 outputs."""

    def __init__(self):
        super().__init__()
        self.enc1 = nn.Conv2d(1, 6, 3, padding=1)
        self.enc2 = nn.Conv2d(6, 12, 3, padding=1)
        self.up = nn.ConvTranspose2d(12, 6, 2, stride=2)
        self.dec = nn.Conv2d(6 + 6 + 12, 8, 3, padding=1)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        e1 = F.relu(self.enc1(x))
        e2 = F.relu(self.enc2(F.max_pool2d(e1, 2)))
        up = torch.cat([self.up(e2), e1, F.interpolate(e2, scale_factor=2, mode="nearest")], 1)
        d = F.relu(self.dec(up))
        d = F.interpolate(d, scale_factor=0.5, mode="bilinear", align_corners=False)
        return self.head(torch.flatten(F.adaptive_avg_pool2d(d, 1), 1))


class Cnn3d(nn.Module):
    """3-D CNN on a 1x8x8x8 density cube: Conv3d, MaxPool3d, strided Conv3d with
    groups, AvgPool3d, a trilinear upsample and a linear head with 3 outputs."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv3d(1, 4, 3, padding=1)
        self.c2 = nn.Conv3d(4, 8, (3, 2, 3), stride=(1, 2, 1), padding=(1, 0, 1), groups=2)
        self.fc = nn.Linear(8 * 2 * 1 * 2, 3)

    def forward(self, x):
        h = F.max_pool3d(F.relu(self.c1(x)), 2)                # 4x4x4x4
        h = F.relu(self.c2(h))                                 # 8x4x2x4
        h = F.interpolate(h, scale_factor=(1, 2, 1), mode="trilinear", align_corners=False)  # 8x4x4x4
        h = F.avg_pool3d(h, 2, padding=(0, 1, 0), count_include_pad=True, ceil_mode=False)   # 8x2x3x2
        h = h[:, :, :, :1, :]                                   # 8x2x1x2
        return self.fc(torch.flatten(h, 1))


class ConvT1d(nn.Module):
    """1-D signal net on 2x24: Conv1d with stride, a ConvTranspose1d with output
    padding, one with dilation and groups, a linear upsample, linear head."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(2, 6, 5, stride=2, padding=2)
        self.t1 = nn.ConvTranspose1d(6, 4, 4, stride=3, padding=1, output_padding=2)
        self.t2 = nn.ConvTranspose1d(4, 4, 3, stride=1, dilation=2, groups=2)
        self.fc = nn.Linear(4 * 19, 2)

    def forward(self, x):
        h = F.relu(self.c1(x))                                  # 6x12
        h = F.relu(self.t1(h))                                  # 4x36
        h = self.t2(h)                                          # 4x40
        h = F.interpolate(h, size=19, mode="linear", align_corners=True)
        return self.fc(torch.flatten(F.leaky_relu(h, 0.1), 1))


MODELS = {
    "unet": (UNet, (1, 16, 16), ["up.weight", "up.bias", "enc1.weight"]),
    "cnn3d": (Cnn3d, (1, 8, 8, 8), ["c2.weight", "fc.weight"]),
    "convt1d": (ConvT1d, (2, 24), ["t1.weight", "t2.weight", "t2.bias"]),
}


def make_model(name, seed):
    cls, shape, pnames = MODELS[name]
    torch.manual_seed(seed)
    model = cls().eval()
    t = {}
    for n in (1, 3):
        x = torch.randn(n, *shape)
        xr = x.clone().requires_grad_(True)
        y = model(xr)
        u = torch.randn(y.shape)
        model.zero_grad()
        (y * u).sum().backward()
        t["x%d" % n], t["y%d" % n], t["u%d" % n], t["dx%d" % n] = x, y.detach(), u, xr.grad
    params = dict(model.named_parameters())
    for p in pnames:
        t["grad." + p] = params[p].grad
    for opset in (13, 17):
        f = io.BytesIO()
        torch.onnx.export(model, t["x1"], f, opset_version=opset, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
        data = f.getvalue()
        assert len(data) < 200_000, (name, len(data))
        with open(os.path.join(out, "%s_op%d.onnx" % (name, opset)), "wb") as fo:
            fo.write(data)
    save(name, t, "%s (torch.onnx.export at opsets 13 and 17); x1/x3 inputs at batch 1 and 3, y outputs, "
         "u cotangents, dx input gradients of sum(y*u), grad.<p> parameter gradients at batch 3" % name)


class TokenCnn(nn.Module):
    """Token classifier on 12 int64 token ids (vocabulary 40): Embedding(40, 8),
    Conv1d over time, ReLU, mean over time, Linear to 3 classes."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(40, 8)
        self.conv = nn.Conv1d(8, 6, 3, padding=1)
        self.fc = nn.Linear(6, 3)

    def forward(self, ids):
        return self.fc(self.embedded(self.emb(ids)))

    def embedded(self, e):  # the part trim explains: from the embedded sequence [N, T, 8]
        return F.relu(self.conv(e.transpose(1, 2))).mean(2)


def make_token_model(seed):
    """data/reach/tokens_op13/17.onnx with an int64 input "ids" [N, 12];
    data/reach/tokens.txt holds ids1/ids3 (as floats), their embeddings
    x1/x3 [N, 12, 8], outputs, cotangents and the gradients with respect to
    the embedded sequence (what trim attributes to)."""
    torch.manual_seed(seed)
    model = TokenCnn().eval()
    t = {}
    for n in (1, 3):
        ids = torch.randint(0, 40, (n, 12))
        e = model.emb(ids).detach().requires_grad_(True)
        y = model.fc(model.embedded(e))
        u = torch.randn(y.shape)
        (y * u).sum().backward()
        t["ids%d" % n], t["x%d" % n], t["y%d" % n], t["u%d" % n], t["dx%d" % n] = ids.float(), e.detach(), y.detach(), u, e.grad
    for opset in (13, 17):
        f = io.BytesIO()
        torch.onnx.export(model, torch.zeros(1, 12, dtype=torch.int64), f, opset_version=opset, input_names=["ids"],
                          output_names=["y"], dynamic_axes={"ids": {0: "N"}, "y": {0: "N"}})
        with open(os.path.join(out, "tokens_op%d.onnx" % opset), "wb") as fo:
            fo.write(f.getvalue())
    save("tokens", t, "TokenCnn: ids (int64 as float), x = embedding(ids), y, u, dx = d<y,u>/dx")


class ClsMask(nn.Module):
    """What transformers build from constants and shapes: a class token
    expanded over the batch (Shape -> Equal -> Where -> Expand), a mask applied
    with masked_fill (Not, Where), indices from Mod, a ScatterND-built table
    and a zero state of shape [N, ...] (ConstantOfShape). Input [N, 4, 6]."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(6, 8)
        self.cls = nn.Parameter(torch.randn(1, 1, 8))
        self.head = nn.Linear(5 * 8, 3)
        self.register_buffer("keep", torch.tensor([True, False, True, True, False]))

    def forward(self, x):
        h = self.proj(x)
        h = torch.cat([self.cls.expand(x.shape[0], -1, -1), h], 1)           # [N, 5, 8]
        h = h.masked_fill(~self.keep[:, None], 0.25)
        order = (torch.arange(5) * 2) % 5                                      # a permutation, via Mod
        h = h[:, order]
        table = torch.zeros(5, 8)
        table[torch.tensor([1, 3])] = torch.ones(2, 8) * 0.5                  # ScatterND (index_put)
        state = torch.zeros(x.shape[0], 5, 8)                                  # ConstantOfShape of [N, 5, 8]
        h = F.relu(h + table) + state
        return self.head(h.flatten(1))


def make_fold_model(seed):
    torch.manual_seed(seed)
    model = ClsMask().eval()
    t = {}
    for n in (1, 3):
        x = torch.randn(n, 4, 6)
        xr = x.clone().requires_grad_(True)
        y = model(xr)
        u = torch.randn(y.shape)
        (y * u).sum().backward()
        t["x%d" % n], t["y%d" % n], t["u%d" % n], t["dx%d" % n] = x, y.detach(), u, xr.grad
    for opset, folding in ((13, False), (17, True)):
        f = io.BytesIO()
        torch.onnx.export(model, t["x1"], f, opset_version=opset, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, do_constant_folding=folding)
        with open(os.path.join(out, "clsmask_op%d.onnx" % opset), "wb") as fo:
            fo.write(f.getvalue())
    save("clsmask", t, "ClsMask (opset 13 without constant folding, 17 with): x1/x3, y, u, dx")


def make_handmade_folds():
    """data/reach/folds.onnx (opset 13, built with onnx.helper for what torch
    folds itself): Mod of integers (fmod=0, the divisor's sign) and floats
    (fmod=1), Equal, Not, Where(mask, data, constant), Expand of data to its
    own shape (Shape of the input), Equal of the batch size with -1.
    Reference y = where(not(mod(a, 3) == 1), x, fmod(fa, 3)) in NumPy.
    errors_expand.onnx expands data to a larger shape (refused)."""
    from onnx import TensorProto, helper, numpy_helper
    a = np.array([-5, 3, 7, -2], dtype=np.int64)
    fa = np.array([-5.5, 3, 7, -2], dtype=np.float32)
    inits = [numpy_helper.from_array(a, "a"), numpy_helper.from_array(np.array([3], np.int64), "three"),
             numpy_helper.from_array(np.array([1], np.int64), "one"), numpy_helper.from_array(fa, "fa"),
             numpy_helper.from_array(np.array([3], np.float32), "fthree"),
             numpy_helper.from_array(np.array([-1, -1], np.int64), "minus_ones")]
    nodes = [helper.make_node("Mod", ["a", "three"], ["m"], fmod=0),
             helper.make_node("Equal", ["m", "one"], ["eq"]),
             helper.make_node("Not", ["eq"], ["ne"]),
             helper.make_node("Mod", ["fa", "fthree"], ["fm"], fmod=1),
             helper.make_node("Where", ["ne", "x", "fm"], ["w"]),
             helper.make_node("Shape", ["x"], ["sx"]),
             helper.make_node("Equal", ["sx", "minus_ones"], ["is_neg"]),
             helper.make_node("Where", ["is_neg", "minus_ones", "sx"], ["target"]),
             helper.make_node("Expand", ["w", "target"], ["y"])]
    x_info = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y_info = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    model = helper.make_model(helper.make_graph(nodes, "folds", [x_info], [y_info], inits),
                              opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, os.path.join(out, "folds.onnx"))
    x = np.random.default_rng(5).standard_normal((3, 4)).astype(np.float32)
    ne = ~(np.mod(a, 3) == 1)
    y = np.where(ne, x, np.fmod(fa, 3).astype(np.float32))
    save("folds", {"x": x, "y": y}, "folds.onnx: y = where(not(mod(a, 3) == 1), x, fmod(fa, 3))")
    big = helper.make_node("Expand", ["x", "bigshape"], ["y"])
    model = helper.make_model(helper.make_graph(
        [big], "errors_expand", [x_info], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2, 4])],
        [numpy_helper.from_array(np.array([1, 2, 4], np.int64), "bigshape")]), opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, os.path.join(out, "errors_expand.onnx"))


def make_handmade_convt():
    """data/reach/convt_attrs.onnx (opset 13, onnx.helper): ConvTranspose forms
    torch does not write. y1: output_shape smaller than the full output (pads
    from the ONNX rule: the extra start pad goes first unless SAME_UPPER),
    y2: output_shape one larger (becomes output padding), y3: 1-D with
    auto_pad SAME_UPPER (output = input · stride). References from
    F.conv_transpose1d/2d, cropped, in float64."""
    from onnx import TensorProto, helper, numpy_helper
    g = torch.Generator().manual_seed(900)
    x = torch.randn(2, 2, 4, 5, generator=g)
    w = torch.randn(2, 3, 3, 3, generator=g) * 0.3
    b = torch.randn(3, generator=g)
    x1 = torch.randn(2, 2, 7, generator=g)
    w1 = torch.randn(2, 2, 4, generator=g) * 0.3
    full = F.conv_transpose2d(x.double(), w.double(), b.double(), stride=2)            # [2, 3, 9, 11]
    y1 = full[:, :, 1:9, 1:11]                     # output_shape [8, 10]: total pad 1, start 1, end 0
    y2 = F.conv_transpose2d(x.double(), w.double(), b.double(), stride=2, output_padding=1)  # [10, 12]
    full1 = F.conv_transpose1d(x1.double(), w1.double(), None, stride=2)             # length 16
    y3 = full1[:, :, 1:15]                        # SAME_UPPER, output 14: total 2, pads 1 / 1
    inits = [numpy_helper.from_array(w.numpy(), "w"), numpy_helper.from_array(b.numpy(), "b"),
             numpy_helper.from_array(w1.numpy(), "w1")]
    nodes = [helper.make_node("ConvTranspose", ["x", "w", "b"], ["y1"], strides=[2, 2], output_shape=[8, 10]),
             helper.make_node("ConvTranspose", ["x", "w", "b"], ["y2"], strides=[2, 2], output_shape=[2, 3, 10, 12]),
             helper.make_node("ConvTranspose", ["x1", "w1"], ["y3"], strides=[2], auto_pad="SAME_UPPER")]
    ins = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 4, 5]),
           helper.make_tensor_value_info("x1", TensorProto.FLOAT, ["N", 2, 7])]
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("y1", "y2", "y3")]
    model = helper.make_model(helper.make_graph(nodes, "convt_attrs", ins, outs, inits),
                              opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, os.path.join(out, "convt_attrs.onnx"))
    save("convt_attrs", {"x": x, "x1": x1, "y1": y1, "y2": y2, "y3": y3},
         "convt_attrs.onnx: ConvTranspose with output_shape (smaller, larger) and auto_pad SAME_UPPER")


# Resize modes torch does not export, against the ONNX backend's reference
# implementation (onnx.backend.test.case.node.resize.interpolate_nd, NumPy):
# name: (x shape, mode, coordinates, nearest mode, cubic a, scales or None, sizes or None)
CT = {"half_pixel": 0, "pytorch_half_pixel": 1, "align_corners": 2, "asymmetric": 3, "tf_half_pixel_for_nn": 4}
NM = {"round_prefer_floor": 0, "round_prefer_ceil": 1, "floor": 2, "ceil": 3}
ONNX_RESIZE = {
    "nearest_rpc_half": ((1, 2, 4, 5), "nearest", "half_pixel", "round_prefer_ceil", -0.75, [1.5, 1.5], None),
    "nearest_ceil_asym": ((1, 2, 5, 4), "nearest", "asymmetric", "ceil", -0.75, None, [7, 6]),
    "nearest_rpf_pyhalf": ((1, 2, 6, 5), "nearest", "pytorch_half_pixel", "round_prefer_floor", -0.75, [0.6, 0.8], None),
    "nearest_floor_half": ((1, 1, 4, 5), "nearest", "half_pixel", "floor", -0.75, [1.75, 1.4], None),
    "linear_pyhalf_len1": ((2, 2, 4, 5), "linear", "pytorch_half_pixel", "floor", -0.75, None, [1, 7]),
    "linear_ac_down": ((1, 2, 7, 6), "linear", "align_corners", "floor", -0.75, None, [4, 3]),
    "cubic_a05_asym": ((1, 2, 4, 4), "cubic", "asymmetric", "floor", -0.5, [2.0, 1.5], None),
}


def make_onnx_resize(name, spec, seed):
    from onnx.backend.test.case.node.resize import cubic_coeffs, interpolate_nd, linear_coeffs, nearest_coeffs
    shape, mode, ct, nm, a, scales, sizes = spec
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    if mode == "nearest":
        coeffs = lambda r: nearest_coeffs(r, mode=nm)
    elif mode == "linear":
        coeffs = linear_coeffs
    else:
        coeffs = lambda r: cubic_coeffs(r, A=a)
    kw = dict(coordinate_transformation_mode=ct)
    if scales is not None:
        kw["scale_factors"] = [1.0, 1.0] + scales
    else:
        kw["output_size"] = list(shape[:2]) + sizes
    f = lambda v: interpolate_nd(v, coeffs, **kw)
    y = f(x.astype(np.float64))
    # The map is linear: its matrix from unit inputs gives dx = Aᵀ u exactly.
    cols = []
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = 1.0
        cols.append(f(e.reshape(shape)).reshape(-1))
    A = np.stack(cols, 1)
    u = rng.standard_normal(y.shape)
    dx = (A.T @ u.reshape(-1)).reshape(shape)
    sd = len(shape) - 2
    cfg = [{"nearest": 0, "linear": 1, "cubic": 2}[mode], CT[ct], NM[nm]]
    cfg += (scales if scales is not None else [0] * sd) + (sizes if sizes is not None else [0] * sd)
    save("resize_onnx_" + name, {"config": np.array(cfg, np.float32), "cubic_a": np.array([a], np.float32), "x": x,
                                 "y": y, "u": u, "dx": dx},
         "ONNX reference interpolate_nd: %s, %s, %s, a=%g, scales %s, sizes %s; config = [mode, coordinates, nearest, "
         "scales(sd), sizes(sd)]" % (mode, ct, nm, a, scales, sizes))


def make_upsample9():
    """data/reach/upsample9.onnx: the deprecated Upsample of opset 9 (scales as
    an input, nearest, asymmetric + floor), read with allow_any_opset.
    Reference: np.repeat along H (2x) and W (3x)."""
    from onnx import TensorProto, helper, numpy_helper
    node = helper.make_node("Upsample", ["x", "scales"], ["y"], mode="nearest")
    model = helper.make_model(helper.make_graph(
        [node], "upsample9", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 3, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2, 6, 6])],
        [numpy_helper.from_array(np.array([1, 1, 2, 3], np.float32), "scales")]),
        opset_imports=[helper.make_opsetid("", 9)])
    onnx.save(model, os.path.join(out, "upsample9.onnx"))
    x = np.random.default_rng(9).standard_normal((2, 2, 3, 2)).astype(np.float32)
    save("upsample9", {"x": x, "y": np.repeat(np.repeat(x, 2, axis=2), 3, axis=3)}, "upsample9.onnx: np.repeat reference")


def make_error_models():
    """Invalid models for the error tests: errors_convt_opad.onnx
    (output_padding not smaller than the stride), errors_resize_channels.onnx
    (scales that resize the channel axis), errors_tokens.onnx (int64 ids read
    by something other than an embedding Gather)."""
    from onnx import TensorProto, helper, numpy_helper
    x_info = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 4, 4])
    y_info = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = numpy_helper.from_array(np.ones((2, 2, 3, 3), np.float32), "w")
    for name, node, inits in (
            ("errors_convt_opad", helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="up", strides=[2, 2],
                                                   output_padding=[2, 0]), [w]),
            ("errors_resize_channels", helper.make_node("Resize", ["x", "", "scales"], ["y"], name="resize"),
             [numpy_helper.from_array(np.array([1, 2, 2, 2], np.float32), "scales")])):
        model = helper.make_model(helper.make_graph([node], name, [x_info], [y_info], inits),
                                  opset_imports=[helper.make_opsetid("", 13)])
        onnx.save(model, os.path.join(out, name + ".onnx"))
    ids = helper.make_tensor_value_info("ids", TensorProto.INT64, ["N", 5])
    model = helper.make_model(helper.make_graph(
        [helper.make_node("Cast", ["ids"], ["y"], to=TensorProto.FLOAT)], "errors_tokens", [ids], [y_info]),
        opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, os.path.join(out, "errors_tokens.onnx"))


def make_moved_batch():
    """data/reach/moved_batch.onnx (opset 13, onnx.helper): a Transpose that
    moves the batch axis ([N,3,4] -> [3,N,4], a sequence-first layout), a
    Transpose that puts it back with the other axes permuted ([N,4,3]), Relu,
    and a Reshape to [N, 12] whose batch entry is read with Shape from the
    moved value (axis 1). Reference in NumPy. errors_moved_batch.onnx applies
    Relu to the moved value (refused)."""
    from onnx import TensorProto, helper, numpy_helper
    x_info = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4])
    y_info = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 12])
    inits = [numpy_helper.from_array(np.array([1], np.int64), "one"),
             numpy_helper.from_array(np.array([-1], np.int64), "rest"),
             numpy_helper.from_array(np.array([0], np.int64), "axis0")]
    nodes = [helper.make_node("Transpose", ["x"], ["seq_first"], perm=[1, 0, 2]),
             helper.make_node("Transpose", ["seq_first"], ["back"], perm=[1, 2, 0]),
             helper.make_node("Relu", ["back"], ["r"]),
             helper.make_node("Shape", ["seq_first"], ["s"]),
             helper.make_node("Gather", ["s", "one"], ["n"], axis=0),
             helper.make_node("Concat", ["n", "rest"], ["target"], axis=0),
             helper.make_node("Reshape", ["r", "target"], ["y"])]
    model = helper.make_model(helper.make_graph(nodes, "moved_batch", [x_info], [y_info], inits),
                              opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, os.path.join(out, "moved_batch.onnx"))
    x = np.random.default_rng(11).standard_normal((3, 3, 4)).astype(np.float32)
    save("moved_batch", {"x": x, "y": np.maximum(x.transpose(0, 2, 1), 0).reshape(3, 12)},
         "moved_batch.onnx: relu(x.transpose(0, 2, 1)).reshape(N, 12) via a sequence-first detour")
    # A state [1, N, 3] filled with 0.5 (ConstantOfShape of a shape with N second, as torch writes an
    # LSTM's h0), put batch-first by a Transpose and added to x [N, 1, 3].
    x2_info = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 3])
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Gather", ["s", "axis0"], ["n"], axis=0),
             helper.make_node("Concat", ["one", "n", "three"], ["state_shape"], axis=0),
             helper.make_node("ConstantOfShape", ["state_shape"], ["h0"],
                              value=numpy_helper.from_array(np.array([0.5], np.float32))),
             helper.make_node("Transpose", ["h0"], ["h0_batch_first"], perm=[1, 0, 2]),
             helper.make_node("Add", ["x", "h0_batch_first"], ["y"])]
    model = helper.make_model(helper.make_graph(
        nodes, "state_second", [x2_info], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1, 3])],
        inits + [numpy_helper.from_array(np.array([3], np.int64), "three")]), opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, os.path.join(out, "state_second.onnx"))
    bad = [helper.make_node("Transpose", ["x"], ["seq_first"], perm=[1, 0, 2]),
           helper.make_node("Relu", ["seq_first"], ["y"], name="act")]
    model = helper.make_model(helper.make_graph(bad, "errors_moved_batch", [x_info],
                                                [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]),
                              opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, os.path.join(out, "errors_moved_batch.onnx"))


if __name__ == "__main__":
    for i, (name, spec) in enumerate(CONVT.items()):
        make_convt(name, spec, 300 + 2 * i)
    for i, (name, spec) in enumerate(RESIZE.items()):
        make_resize(name, spec, 400 + 2 * i)
    for i, (name, spec) in enumerate(CONV3D.items()):
        make_conv3d(name, spec, 500 + 2 * i)
    for i, (name, spec) in enumerate(POOL3D.items()):
        make_pool3d(name, spec, 600 + 2 * i)
    for i, name in enumerate(MODELS):
        make_model(name, 700 + i)
    make_token_model(710)
    make_fold_model(720)
    make_handmade_folds()
    make_handmade_convt()
    for i, (name, spec) in enumerate(ONNX_RESIZE.items()):
        make_onnx_resize(name, spec, 800 + i)
    make_upsample9()
    make_error_models()
    make_moved_batch()
