"""ONNX model fixtures and PyTorch reference values for tests/io/test_onnx.cpp.

Run with Debian's python3-torch / python3-onnx:
    /usr/bin/python3 tests/reference/make_onnx.py

For every model <m> it writes data/onnx/<m>.onnx (torch.onnx.export with a
dynamic batch axis "N") and data/onnx/<m>.txt with
    x   an input batch,
    y   PyTorch's output,
    u   a fixed random output cotangent,
    dx  the input gradient of sum(y * u),
    grad.<param>  parameter gradients of sum(y * u) (mlp and lenet only).
ResNet-18's x and dx are large, so they go to <m>_x.npy / <m>_dx.npy
(float32, written by NumPy) instead of text.

Models (weights random from fixed seeds; batch-norm statistics randomised
and the models in eval mode):
    mlp        opset 13  normalise (Sub/Div by constants), x.view(x.size(0), -1)
                         (Shape->Gather->Unsqueeze->Concat->Reshape), Gemm, MatMul+Add
                         (Linear on rank 3), Unsqueeze/Squeeze, Softplus, Mul, LeakyRelu
    lenet      opset 11  Conv, Tanh, AveragePool, ReLU6 (Clip), MaxPool, view, Sigmoid,
                         LogSoftmax
    bnres      opset 13  Conv+BN (fused by the exporter), residual block, unfused BN,
                         Elu, Pad with a value, Slice, MaxPool with padding, Transpose,
                         Concat, data - data, GlobalAveragePool, Softmax
    audio1d    opset 17  Conv1d (stride, dilation, groups), BN1d, MaxPool1d, AvgPool1d,
                         LeakyRelu, Softmax over channels (an inner axis), GlobalAveragePool,
                         Gemm
    resnet18   opset 13  torchvision's ResNet-18 structure (BasicBlock, [2,2,2,2]) with
                         1-channel 64x64 input, 3 outputs and widths 8-16-32-64 (an
                         eighth of torchvision's 64-128-256-512: ~0.7 MB instead of
                         45 MB); exported with TrainingMode.PRESERVE so batch-norms
                         stay separate nodes with their state-dict names
    meanpool   opset 13  x.mean((2, 3)) with and without keepdim (ReduceMean)
    convopts   opset 15  Conv2d with unequal strides, pads and dilations per axis and
                         groups, a depthwise Conv2d, AvgPool2d with padding
                         (count_include_pad), MaxPool2d with ceil_mode
    densenet   opset 13  torchvision's DenseNet structure (two dense blocks of two layers,
                         growth 4, bottleneck 2x, 8 initial features) on 3x32x32 with 3
                         outputs: Concat -> BatchNormalization -> Relu in every layer and
                         transition (the executor's fused concat -> batch norm -> ReLU)
    handmade   opset 12  built with onnx.helper for what torch does not emit: Conv with
                         auto_pad SAME_UPPER, constant - x, x / constant, Clip with only a
                         max, Gemm with transB=0/alpha/beta, opset-12 Softmax over
                         trailing axes, Gather on data, Dropout, Identity, Squeeze
                         without axes, Flatten; reference computed with torch ops

It also writes small invalid models (errors_*.onnx) for the error tests.
Names given on the command line (e.g. `make_onnx.py densenet`) write only
those models' fixtures.
"""
import io
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

from fixture import randomise_norms as randomise_bn, write_fixture

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "data", "onnx")
os.makedirs(out, exist_ok=True)


def export(name, model, x, opset, training=torch.onnx.TrainingMode.EVAL, npy=False, param_grads=()):
    model.eval()
    f = io.BytesIO()
    torch.onnx.export(model, x, f, opset_version=opset, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, training=training,
                      do_constant_folding=True)
    proto = onnx.load_from_string(f.getvalue())
    onnx.checker.check_model(proto)
    with open(os.path.join(out, name + ".onnx"), "wb") as fh:
        fh.write(f.getvalue())
    reference(name, model, x, npy, {p: dict(model.named_parameters())[p] for p in param_grads})


def reference(name, fn, x, npy=False, params=None):
    x = x.detach().clone().requires_grad_(True)
    y = fn(x)
    g = torch.Generator().manual_seed(1234)
    u = torch.randn(y.shape, generator=g)
    (y * u).sum().backward()
    tensors = {"y": y.detach(), "u": u}
    for pname, p in (params or {}).items():
        tensors["grad." + pname] = p.grad
    if npy:
        np.save(os.path.join(out, name + "_x.npy"), x.detach().numpy().astype("<f4"))
        np.save(os.path.join(out, name + "_dx.npy"), x.grad.numpy().astype("<f4"))
    else:
        tensors = {"x": x.detach(), **tensors, "dx": x.grad}
    write_fixture(os.path.join(out, name + ".txt"), tensors,
                  comment="%s: y = model(x), u = output cotangent, dx = d sum(y*u) / dx" % name)


# ---- mlp ----------------------------------------------------------------------------------

class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.linspace(-0.5, 0.5, 20).reshape(4, 5))
        self.fc1 = nn.Linear(20, 24)
        self.fc2 = nn.Linear(24, 16)
        self.fc3 = nn.Linear(16, 3)

    def forward(self, x):
        h = (x - self.mean) / 1.5
        h = h.view(h.size(0), -1)
        h = torch.relu(self.fc1(h))
        h = self.fc2(h.unsqueeze(1)).squeeze(1)
        h = F.softplus(h) * 0.5
        h = F.leaky_relu(h, 0.1)
        return self.fc3(h)


# ---- lenet --------------------------------------------------------------------------------

class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 2 * 2, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        h = F.avg_pool2d(torch.tanh(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu6(self.conv2(h) * 3.0), 2)
        h = h.view(h.size(0), -1)
        h = torch.sigmoid(self.fc1(h))
        return F.log_softmax(self.fc2(h), dim=1)


# ---- bnres --------------------------------------------------------------------------------

class BnRes(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(8)
        self.conv1 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.post_bn = nn.BatchNorm2d(8)
        self.drop = nn.Dropout(0.3)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        h = F.relu(self.stem_bn(self.stem(x)))
        r = F.relu(self.bn1(self.conv1(h)))
        r = self.bn2(self.conv2(r))
        h = F.relu(r + h)
        h = F.elu(self.post_bn(h))                      # BN after a ReLU: not fused
        h = F.pad(h, (1, 1, 0, 1), value=0.25)          # [N,8,13,14]
        h = h[:, :, 1:, :-1]                            # [N,8,12,13]
        h = F.max_pool2d(h, 3, stride=2, padding=1)     # [N,8,6,7]
        h = h.permute(0, 1, 3, 2)                       # [N,8,7,6]
        h = torch.cat([h, h * 0.5 - r[:, :, :7, :6]], dim=1)  # data - data, concat
        h = self.drop(h)
        h = F.adaptive_avg_pool2d(h, 1).flatten(1)
        return torch.softmax(self.fc(h), dim=1)


# ---- audio1d ------------------------------------------------------------------------------

class Audio1d(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(1, 8, 9, stride=2, padding=4)
        self.bn1 = nn.BatchNorm1d(8)
        self.conv2 = nn.Conv1d(8, 16, 5, padding=4, dilation=2, groups=2)
        self.conv3 = nn.Conv1d(16, 16, 3, padding=1)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        h = F.max_pool1d(F.relu(self.bn1(self.conv1(x))), 2)   # [N,8,32]
        h = F.leaky_relu(self.conv2(h), 0.2)                  # [N,16,32]
        h = F.avg_pool1d(h, 2)                                # [N,16,16]
        h = h + torch.softmax(self.conv3(h), dim=1)           # over channels: an inner axis
        h = F.adaptive_avg_pool1d(h, 1).flatten(1)
        return self.fc(h)


# ---- meanpool -----------------------------------------------------------------------------

class MeanPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        h = torch.relu(self.conv(x))
        a = h.mean((2, 3))                            # ReduceMean, keepdims = 0
        b = h.mean((-1, -2), keepdim=True).flatten(1)  # ReduceMean, keepdims = 1
        return self.fc(torch.cat([a, b * 2.0], dim=1))


# ---- convopts -----------------------------------------------------------------------------

class ConvOpts(nn.Module):
    """Conv attributes that differ per axis: an import that swaps H and W fails here."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2)
        self.conv2 = nn.Conv2d(6, 6, 3, padding=1, groups=6)
        self.fc = nn.Linear(36, 3)

    def forward(self, x):                                                 # [N,4,11,9]
        h = F.relu(self.conv1(x))                                         # [N,6,5,12]
        h = F.avg_pool2d(h, 3, stride=2, padding=1)                       # [N,6,3,6], pads counted
        h = F.max_pool2d(torch.tanh(self.conv2(h)), 2, ceil_mode=True)    # [N,6,2,3]
        return self.fc(h.flatten(1))


# ---- resnet18 (torchvision structure) -----------------------------------------------------------

class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    def __init__(self, layers=(2, 2, 2, 2), widths=(8, 16, 32, 64), in_channels=1, num_classes=3):
        super().__init__()
        self.inplanes = widths[0]
        self.conv1 = nn.Conv2d(in_channels, self.inplanes, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(widths[0], layers[0])
        self.layer2 = self._make_layer(widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(widths[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3], num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        for _ in range(1, blocks):
            layers.append(BasicBlock(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


# ---- handmade (onnx.helper) ---------------------------------------------------------------------

def handmade():
    rng = np.random.default_rng(7)
    w = (rng.standard_normal((4, 2, 3, 3)) * 0.3).astype(np.float32)
    b = (rng.standard_normal(4) * 0.1).astype(np.float32)
    c = (rng.standard_normal((4, 1, 1)) * 0.5).astype(np.float32)
    d = np.float32(2.5)
    gB = (rng.standard_normal((12, 5)) * 0.3).astype(np.float32)  # [in, out]: transB = 0
    gC = (rng.standard_normal((1, 5)) * 0.1).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in
             [(w, "conv.weight"), (b, "conv.bias"), (c, "c"), (np.array(d), "d"), (gB, "gemm.B"), (gC, "gemm.C"),
              (np.array(0.4, dtype=np.float32), "clip.max"), (np.array(0.2, dtype=np.float32), "ratio"),
              (np.array(1, dtype=np.int64), "index")]]
    nodes = [
        helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["conv"], name="conv",
                         auto_pad="SAME_UPPER", strides=[2, 2], kernel_shape=[3, 3]),         # [N,4,3,3]
        helper.make_node("Sub", ["c", "conv"], ["sub"], name="sub"),                              # c - x
        helper.make_node("Div", ["sub", "d"], ["div"], name="div"),                               # x / d
        helper.make_node("Clip", ["div", "", "clip.max"], ["clip"], name="clip"),                 # max only
        helper.make_node("Softmax", ["clip"], ["softmax"], name="softmax", axis=2),              # over [3,3] jointly
        helper.make_node("Dropout", ["softmax", "ratio"], ["drop", "mask"], name="drop"),
        helper.make_node("Identity", ["drop"], ["ident"], name="ident"),
        helper.make_node("Gather", ["ident", "index"], ["gather"], name="gather", axis=3),       # [N,4,3]
        helper.make_node("Unsqueeze", ["gather"], ["unsq"], name="unsq", axes=[1]),              # [N,1,4,3]
        helper.make_node("Squeeze", ["unsq"], ["sq"], name="sq"),                                 # [N,4,3]
        helper.make_node("Flatten", ["sq"], ["flat"], name="flat", axis=1),                       # [N,12]
        helper.make_node("Gemm", ["flat", "gemm.B", "gemm.C"], ["gemm"], name="gemm",
                         alpha=0.5, beta=2.0),                                                    # [N,5]
        helper.make_node("Constant", [], ["scale"], name="scale", value_floats=[1.0, 2.0, 3.0, 4.0, 5.0]),
        helper.make_node("Mul", ["gemm", "scale"], ["y"], name="mul"),
    ]
    graph = helper.make_graph(
        nodes, "handmade",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)], producer_name="make_onnx.py")
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, "handmade.onnx"))

    t = {k: torch.from_numpy(np.asarray(v)) for k, v in
         dict(w=w, b=b, c=c, d=d, gB=gB, gC=gC).items()}

    def fn(x):
        h = F.conv2d(F.pad(x, (0, 1, 0, 1)), t["w"], t["b"], stride=2)   # SAME_UPPER: extra pad at the end
        h = (t["c"] - h) / t["d"]
        h = torch.clamp(h, max=0.4)
        n = h.shape[0]
        h = torch.softmax(h.reshape(n, 4, 9), dim=2).reshape(n, 4, 3, 3)  # opset 12: coerced to 2-D at axis 2
        h = h[:, :, :, 1]
        h = h.reshape(n, 12)
        h = 0.5 * h @ t["gB"] + 2.0 * t["gC"]
        return h * torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])

    x = torch.randn(3, 2, 6, 6, generator=torch.Generator().manual_seed(11))
    reference("handmade", fn, x)


# ---- invalid models for the error tests ------------------------------------------------------------

def errors():
    def save(name, nodes, inits, out_shape=("N", 4), in_shape=("N", 4), opset=13):
        graph = helper.make_graph(
            nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(out_shape))], inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = 7
        with open(os.path.join(out, "errors_%s.onnx" % name), "wb") as f:
            f.write(model.SerializeToString())

    # An operator trim does not implement.
    save("unsupported", [helper.make_node("Cos", ["x"], ["y"], name="cosine")], [])
    # A Gemm whose weight is neither an initializer nor produced by a node.
    save("missing_init", [helper.make_node("Gemm", ["x", "fc.weight"], ["y"], name="fc", transB=1)], [],
         out_shape=("N", 3))
    # An attribute of the wrong type (alpha as a string).
    save("bad_attr", [helper.make_node("LeakyRelu", ["x"], ["y"], name="act", alpha="wide")], [])
    # A reshape that fixes the batch size to 2 (the batch must stay free).
    shape = numpy_helper.from_array(np.array([2, -1], dtype=np.int64), "shape")
    save("fixed_batch", [helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape")], [shape],
         out_shape=(2, 4))
    # The product of two data tensors (an error before Kind::Product; now imports).
    save("data_product", [helper.make_node("Mul", ["x", "x"], ["y"], name="square")], [])
    # A weight whose stored data is shorter than its dims say.
    short = TensorProto()
    short.name = "fc.weight"
    short.data_type = TensorProto.FLOAT
    short.dims.extend([3, 4])
    short.raw_data = np.ones(5, dtype=np.float32).tobytes()
    save("short_init", [helper.make_node("Gemm", ["x", "fc.weight"], ["y"], name="fc", transB=1)], [short],
         out_shape=("N", 3))
    # A Conv whose weight does not fit the input channels.
    cw = numpy_helper.from_array(np.ones((2, 3, 3, 3), dtype=np.float32), "conv.weight")
    save("conv_shape", [helper.make_node("Conv", ["x", "conv.weight"], ["y"], name="conv")], [cw],
         in_shape=("N", 2, 5, 5), out_shape=("N", 2, 3, 3))
    # Opset 9 is outside 11-17.
    save("old_opset", [helper.make_node("Relu", ["x"], ["y"], name="relu")], [], opset=9)
    # Integer arithmetic at import that overflows 64 bits (undefined behaviour
    # before it was checked): a Range whose k·delta passes 2^63 though its
    # elements fit (imports, computed exactly), a Concat of
    # empty constants whose joined axis passes 2^63, a Transpose of an empty
    # constant whose strides pass 2^63.
    big = 6456360425798343065  # 0.7 · 2^63: three elements; 2·delta overflows, start + 2·delta does not
    rng = [numpy_helper.from_array(np.array(v, dtype=np.int64), n)
           for v, n in ((-(2**63) + 1, "start"), (2**63 - 1, "limit"), (big, "delta"))]
    save("range_overflow", [helper.make_node("Range", ["start", "limit", "delta"], ["r"], name="range"),
                            helper.make_node("Cast", ["r"], ["rf"], name="cast", to=TensorProto.FLOAT),
                            helper.make_node("Add", ["x", "rf"], ["y"], name="add")], rng,
         in_shape=("N", 3), out_shape=("N", 3))

    def empty(name, dims):
        t = TensorProto()
        t.name = name
        t.data_type = TensorProto.FLOAT
        t.dims.extend(dims)
        return t
    save("concat_overflow", [helper.make_node("Concat", ["a", "b"], ["c"], name="join", axis=1),
                             helper.make_node("Relu", ["x"], ["y"], name="relu")],
         [empty("a", [0, 2**62]), empty("b", [0, 2**62])])
    save("transpose_overflow", [helper.make_node("Transpose", ["a"], ["t"], name="flip", perm=[2, 1, 0]),
                                helper.make_node("Relu", ["x"], ["y"], name="relu")],
         [empty("a", [0, 2**40, 2**40])])


def densenet():
    from torchvision.models import DenseNet
    torch.manual_seed(7)
    net = DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8, bn_size=2, num_classes=3)
    randomise_bn(net, 70)
    export("densenet", net, torch.randn(2, 3, 32, 32), 13)


def main():
    import sys
    if len(sys.argv) > 1:
        for name in sys.argv[1:]:
            {"densenet": densenet}[name]()
        return
    torch.manual_seed(0)
    mlp = Mlp()
    export("mlp", mlp, torch.randn(3, 4, 5), 13,
           param_grads=("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight"))

    torch.manual_seed(1)
    export("lenet", LeNet(), torch.randn(3, 1, 16, 16), 11,
           param_grads=("conv1.weight", "conv1.bias", "conv2.bias", "fc2.weight"))

    torch.manual_seed(2)
    bnres = BnRes()
    randomise_bn(bnres, 20)
    export("bnres", bnres, torch.randn(3, 3, 12, 12), 13)

    torch.manual_seed(3)
    audio = Audio1d()
    randomise_bn(audio, 30)
    export("audio1d", audio, torch.randn(3, 1, 128), 17)

    torch.manual_seed(5)
    export("meanpool", MeanPool(), torch.randn(3, 2, 6, 5), 13)

    torch.manual_seed(6)
    export("convopts", ConvOpts(), torch.randn(3, 4, 11, 9), 15, param_grads=("conv1.weight", "conv1.bias"))

    torch.manual_seed(4)
    resnet = ResNet()
    randomise_bn(resnet, 40)
    export("resnet18", resnet, torch.randn(2, 1, 64, 64), 13, training=torch.onnx.TrainingMode.PRESERVE,
           npy=True)

    densenet()
    handmade()
    errors()


if __name__ == "__main__":
    main()
