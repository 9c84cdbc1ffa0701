"""nn.MultiheadAttention as torch 1.13 exports it, for tests/io/test_reach.cpp.

Run with Debian's python3-torch 1.13 / python3-torchvision 0.14 / python3-onnx:
    /usr/bin/python3 tests/reference/make_attention.py

torch exports nn.MultiheadAttention sequence-first inside (Transpose(1, 0, 2),
then a Reshape to [T, N*heads, d] merging the batch with the heads, MatMul and
Softmax on [N*heads, T, d], and back), also with batch_first=True. Each model
(random weights from fixed seeds, LayerNorms randomised, zero-initialised
biases and heads drawn at random, eval mode) is
exported at opsets 13 and 17 with a dynamic batch axis "N" to
data/reach/<m>_o13.onnx and <m>_o17.onnx; data/reach/<m>.txt holds x, y
(batch 3), x1, y1 (batch 1), u and dx (the input gradient of sum(y * u)), as
make_reach.py writes them.

Models (make_reach.py's `encoder`, one batch_first nn.TransformerEncoderLayer,
is the third):
    tencoder_sf nn.TransformerEncoder of two sequence-first (batch_first=False)
                pre-norm layers (GELU) behind x.transpose(0, 1): the graph input
                stays batch-first [N, T, d]; the class read is the first step
    vit         torchvision's VisionTransformer (image 16, patch 8, 2 layers,
                2 heads, width 16, MLP 32, 4 classes): patch Conv, class token
                (Expand + Concat), position embedding, x[:, 0], head
    swin        torchvision's SwinTransformer (see swin()): windows partitioned
                by reshapes that merge the batch with the windows, a shifted
                block
    mha_weights nn.MultiheadAttention used directly (sequence-first) with
                need_weights=True: the head-averaged weights feed the head too
    decoder     nn.TransformerDecoderLayer (batch_first) with a causal mask and
                cross-attention to the first three steps
Every export is stored with short value names and no node names
(make_reach.shorten_names): the same graphs, a quarter of the bytes (Swin's
export has ~1100 nodes, most of them shape arithmetic).
"""
import torch
import torch.nn as nn
from torchvision.models.vision_transformer import VisionTransformer

from fixture import randomise_norms
from make_reach import export


class TEncoderSeqFirst(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu", norm_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):  # x: [N, T, d]
        h = self.enc(x.transpose(0, 1))  # [T, N, d]
        return self.fc(h[0])


def swin():
    """torchvision's SwinTransformer: patch 2, width 8, one stage of two blocks
    (the second shifted: torch.roll as Slice + Concat, the shift mask from
    Mod / ScatterND / Where of constants), windows 2x2, 2 heads, 3 classes;
    weights re-drawn at PyTorch's default scales (torchvision's std-0.02
    initialisation leaves outputs near zero)."""
    from torchvision.models.swin_transformer import SwinTransformer
    m = SwinTransformer(patch_size=[2, 2], embed_dim=8, depths=[2], num_heads=[2], window_size=[2, 2],
                        num_classes=3)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, (nn.Linear, nn.Conv2d)):
                mod.reset_parameters()
            if hasattr(mod, "relative_position_bias_table"):
                mod.relative_position_bias_table.normal_(0.0, 0.3)
    return m


class MhaWeights(nn.Module):
    """nn.MultiheadAttention used directly, sequence-first, with need_weights:
    its output and its head-averaged weights [N, T, T] both feed the head."""

    def __init__(self):
        super().__init__()
        self.att = nn.MultiheadAttention(8, 2)
        self.fc = nn.Linear(8 + 5, 3)

    def forward(self, x):  # x: [N, 5, 8]
        q = x.transpose(0, 1)
        o, w = self.att(q, q, q, need_weights=True)
        return self.fc(torch.cat([o.mean(0), w.mean(1)], 1))


class Decoder(nn.Module):
    """nn.TransformerDecoderLayer (batch_first) with a causal self-attention
    mask (a constant) and cross-attention to the first three steps."""

    def __init__(self):
        super().__init__()
        self.dec = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        mask = torch.triu(torch.full((5, 5), float("-inf")), diagonal=1)
        return self.fc(self.dec(x, x[:, :3], tgt_mask=mask).mean(1))


def vit():
    return VisionTransformer(image_size=16, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32,
                             num_classes=4)


if __name__ == "__main__":
    for name, make, x in [
        ("tencoder_sf", TEncoderSeqFirst, torch.randn(3, 5, 8, generator=torch.Generator().manual_seed(22))),
        ("vit", vit, torch.randn(3, 3, 16, 16, generator=torch.Generator().manual_seed(23))),
        ("swin", swin, torch.randn(3, 3, 8, 8, generator=torch.Generator().manual_seed(24))),
        ("mha_weights", MhaWeights, torch.randn(3, 5, 8, generator=torch.Generator().manual_seed(25))),
        ("decoder", Decoder, torch.randn(3, 5, 8, generator=torch.Generator().manual_seed(26))),
    ]:
        torch.manual_seed(sum(map(ord, name)))
        model = make()
        with torch.no_grad():  # torchvision zero-initialises the head: random weights instead
            for p in model.parameters():
                if p.abs().sum() == 0:
                    p.normal_(0.0, 0.3)
        randomise_norms(model, 7)
        model.eval()
        export(name, model, x, short_names=True)


def errors():
    """Hand-made graphs (onnx.helper) a batch-first reader must refuse clearly:
    errors_merged_slice.onnx   [N, 4, 6] -> [4, N, 6] -> [4, N*2, 3] (the batch
                               merged with a split axis), then a Slice of the
                               merged axis
    errors_batch_mix.onnx      [N, 6] -> Reshape [3, -1] (rows of different
                               examples would mix)
    errors_dropout_train.onnx  Dropout(ratio 0.5, training_mode true); with
    dropout_p0_train.onnx      ratio 0 it is the identity (read)
    errors_seq_first_input.onnx  a graph input [5, N, 8] (sequence-first)"""
    import os
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from make_reach import out

    def c(name, v):
        return numpy_helper.from_array(np.array(v, dtype=np.int64), name)

    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], name="seq_first", perm=[1, 0, 2]),
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Mul", ["n", "two"], ["n2"]),
        helper.make_node("Unsqueeze", ["n2", "axes0"], ["n2v"]),
        helper.make_node("Concat", ["four", "n2v", "three"], ["shape"], axis=0),
        helper.make_node("Reshape", ["t", "shape"], ["r"], name="heads"),
        helper.make_node("Slice", ["r", "s0", "s1", "axes1"], ["y"], name="cut"),
    ]
    graph = helper.make_graph(nodes, "errors_merged_slice",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [c("zero", 0), c("two", 2), c("axes0", [0]), c("four", [4]), c("three", [3]),
                               c("s0", [0]), c("s1", [1]), c("axes1", [1])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              os.path.join(out, "errors_merged_slice.onnx"))
    for fname, ratio in (("dropout_p0_train", 0.0), ("errors_dropout_train", 0.5)):  # Swin's F.dropout(p, training=True)
        nodes = [helper.make_node("Dropout", ["x", "ratio", "train"], ["y"], name="drop")]
        graph = helper.make_graph(nodes, fname, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 6])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 6])],
                                  [numpy_helper.from_array(np.array(ratio, dtype=np.float32), "ratio"),
                                   numpy_helper.from_array(np.array(True), "train")])
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
                  os.path.join(out, fname + ".onnx"))
    nodes = [helper.make_node("Relu", ["x"], ["y"])]  # a sequence-first graph input [T, N, E]
    graph = helper.make_graph(nodes, "errors_seq_first_input",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [5, "N", 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [5, "N", 8])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              os.path.join(out, "errors_seq_first_input.onnx"))
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["y"], name="mix")]
    graph = helper.make_graph(nodes, "errors_batch_mix",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [c("shape", [3, -1])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              os.path.join(out, "errors_batch_mix.onnx"))


def views():
    """layout_views.onnx (onnx.helper) and layout_views.txt (NumPy): views a
    batch-first reader must follow — [N, 4, 6] -> Transpose [4, N, 6] ->
    Reshape [4, N*2, 3] -> Transpose [N*2, 4, 3] -> Softmax over axis 1 -> Mul
    by a constant [3] -> MatMul with its own transpose [N*2, 3, 4] ->
    Reshape [N, 2, 16] -> Reshape [1, N, 32] -> Transpose [N, 1, 32]."""
    import os
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from fixture import write_fixture
    from make_reach import out

    def c(name, v, dtype=np.int64):
        return numpy_helper.from_array(np.array(v, dtype=dtype), name)

    scale = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[1, 0, 2]),
        helper.make_node("Shape", ["t"], ["s"]),
        helper.make_node("Gather", ["s", "one"], ["n"], axis=0),
        helper.make_node("Mul", ["n", "two"], ["n2"]),
        helper.make_node("Unsqueeze", ["n2", "axes0"], ["n2v"]),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["nv"]),
        helper.make_node("Concat", ["four", "n2v", "three"], ["shape"], axis=0),
        helper.make_node("Reshape", ["t", "shape"], ["r"]),
        helper.make_node("Transpose", ["r"], ["q"], perm=[1, 0, 2]),
        helper.make_node("Softmax", ["q"], ["sm"], axis=1),
        helper.make_node("Mul", ["sm", "scale"], ["m"]),
        helper.make_node("Transpose", ["m"], ["k"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["m", "k"], ["o"]),
        helper.make_node("Concat", ["nv", "two_sixteen"], ["shape2"], axis=0),
        helper.make_node("Reshape", ["o", "shape2"], ["z"]),
        helper.make_node("Concat", ["one_v", "nv", "thirty_two"], ["shape3"], axis=0),
        helper.make_node("Reshape", ["z", "shape3"], ["w"]),
        helper.make_node("Transpose", ["w"], ["y"], perm=[1, 0, 2]),
    ]
    graph = helper.make_graph(nodes, "layout_views",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1, 32])],
                              [c("one", 1), c("two", 2), c("axes0", [0]), c("four", [4]), c("three", [3]),
                               c("two_sixteen", [2, 16]), c("one_v", [1]), c("thirty_two", [32]),
                               c("scale", scale, np.float32)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, "layout_views.onnx"))
    x = np.random.default_rng(31).standard_normal((3, 4, 6)).astype(np.float64)
    t = x.transpose(1, 0, 2).reshape(4, 6, 3).transpose(1, 0, 2)  # [N*2, 4, 3]
    e = np.exp(t - t.max(axis=1, keepdims=True))
    m = e / e.sum(axis=1, keepdims=True) * scale
    o = m @ m.transpose(0, 2, 1)  # [N*2, 4, 4]
    y = o.reshape(3, 2, 16).reshape(1, 3, 32).transpose(1, 0, 2)
    write_fixture(os.path.join(out, "layout_views.txt"), {"x": x, "y": y},
                  comment="layout_views.onnx on x (NumPy, float64): see make_attention.py views()")


if __name__ == "__main__":
    errors()
    views()
