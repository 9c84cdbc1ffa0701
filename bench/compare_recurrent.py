#!/usr/bin/python3
"""Times trim and PyTorch on an LSTM and a transformer encoder, in one run.

Usage (after `meson compile -C build` with -Dbenchmarks=enabled):
    /usr/bin/python3 bench/compare_recurrent.py [--build build] [--repetitions 5]

Builds the PyTorch models (random weights), exports them to ONNX in
<build>/bench/recurrent_models/ and runs bench_recurrent on those files, so
both sides compute the same function:
    lstm     acd's LSTMSentiment shape after its embedding: LSTM(64 -> 128) read
             sequence-first over 32 word vectors, Linear(128 -> 3) on the last
             hidden state
    encoder  two pre-norm transformer encoder layers (d 64, 4 heads, GELU MLP
             128) written batch-first, mean over 32 tokens, Linear(64 -> 3)
    mha      the same function from torch's own blocks: nn.TransformerEncoder
             of two nn.TransformerEncoderLayer (batch_first, norm_first, GELU),
             exported as torch 1.13 writes nn.MultiheadAttention (sequence-
             first inside, the batch merged with the heads)
Cases: forward at batch 1 and 32; integrated gradients, 50 steps, one example
(PyTorch: one batch of the 50 interpolated inputs, forward and backward); CD
over the 30 spans of 3 consecutive steps (PyTorch: acd's cd_text, the 30
spans as one batch; acd has no transformer rule, so no PyTorch CD twin for the
encoders). Both use 2 threads; medians; ratio trim / PyTorch (< 1: trim
faster). PyTorch's forward of `mha` under no_grad takes its fused inference
path (torch._transformer_encoder_layer_fwd).
"""
import argparse
import math
import os
import warnings

import torch
import torch.nn as nn

from compare_pytorch import THREADS, median_time, trim_time

T, D, H = 32, 64, 128
SPAN = 3


class Lstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(D, H)
        self.hidden_to_label = nn.Linear(H, 3)

    def forward(self, x):
        y, _ = self.lstm(x.transpose(0, 1))
        return self.hidden_to_label(y[-1])


class EncoderLayer(nn.Module):
    def __init__(self, d=64, heads=4, ff=128):
        super().__init__()
        self.d, self.h = d, heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q, self.k, self.v, self.proj = (nn.Linear(d, d) for _ in range(4))
        self.mlp = nn.Sequential(nn.Linear(d, ff), nn.GELU(), nn.Linear(ff, d))

    def forward(self, x):
        n, length, hd = x.shape[0], x.shape[1], self.d // self.h
        z = self.ln1(x)
        q, k, v = (f(z).reshape(n, length, self.h, hd).transpose(1, 2) for f in (self.q, self.k, self.v))
        att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(hd), dim=-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(n, length, self.d))
        return x + self.mlp(self.ln2(x))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(EncoderLayer(), EncoderLayer())
        self.fc = nn.Linear(64, 3)

    def forward(self, x):
        return self.fc(self.layers(x).mean(1))


class Mha(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(64, 4, 128, dropout=0.0, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.fc = nn.Linear(64, 3)

    def forward(self, x):
        return self.fc(self.enc(x).mean(1))


def decomp_three(a, b, c, f):
    return 0.5 * (f(a + c) - f(c) + f(a + b + c) - f(b + c)), 0.5 * (f(b + c) - f(c) + f(a + b + c) - f(a + c)), f(c)


def cd_text_spans(model, x, spans):
    """acd's cd_text for one sequence x [T, D], every span at once (rows)."""
    w = model.lstm.state_dict()
    W_ii, W_if, W_ig, W_io = w["weight_ih_l0"].chunk(4, 0)
    W_hi, W_hf, W_hg, W_ho = w["weight_hh_l0"].chunk(4, 0)
    b_i, b_f, b_g, b_o = (w["bias_ih_l0"] + w["bias_hh_l0"]).chunk(4)
    S, n_t = len(spans), x.shape[0]
    inside = torch.zeros(n_t, S, 1)
    for s, (a, b) in enumerate(spans):
        inside[a:b + 1, s] = 1.0
    rel_h, irrel_h = torch.zeros(S, H), torch.zeros(S, H)
    rel_c, irrel_c = torch.zeros(S, H), torch.zeros(S, H)
    for i in range(n_t):
        m = inside[i]
        xi = x[i].expand(S, -1)
        pre = lambda Wi, Wh, h, sel: h @ Wh.T + sel * (xi @ Wi.T)
        rel = [pre(Wi, Wh, rel_h, m) for Wi, Wh in ((W_ii, W_hi), (W_ig, W_hg), (W_if, W_hf))]
        irrel = [pre(Wi, Wh, irrel_h, 1 - m) for Wi, Wh in ((W_ii, W_hi), (W_ig, W_hg), (W_if, W_hf))]
        ri, ii, bi = decomp_three(rel[0], irrel[0], b_i, torch.sigmoid)
        rg, ig, bg = decomp_three(rel[1], irrel[1], b_g, torch.tanh)
        new_rel = ri * (rg + bg) + bi * rg + m * bi * bg
        new_irrel = ii * (rg + ig + bg) + (ri + bi) * ig + (1 - m) * bi * bg
        if i > 0:
            rf, if_, bf = decomp_three(rel[2], irrel[2], b_f, torch.sigmoid)
            new_rel = new_rel + (rf + bf) * rel_c
            new_irrel = new_irrel + (rf + if_ + bf) * irrel_c + if_ * rel_c
        o = torch.sigmoid(xi @ W_io.T + (rel_h + irrel_h) @ W_ho.T + b_o)
        rel_c, irrel_c = new_rel, new_irrel
        th = torch.tanh
        rel_h = o * 0.5 * (th(rel_c) + th(rel_c + irrel_c) - th(irrel_c))
        irrel_h = o * 0.5 * (th(irrel_c) + th(rel_c + irrel_c) - th(rel_c))
    W, b = model.hidden_to_label.weight, model.hidden_to_label.bias
    r, q = rel_h @ W.T, irrel_h @ W.T
    pr, pq = r.abs() + 1e-20, q.abs() + 1e-20
    return r + b * pr / (pr + pq)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--repetitions", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    models_dir = os.path.abspath(os.path.join(args.build, "bench", "recurrent_models"))
    os.makedirs(models_dir, exist_ok=True)
    models = {"lstm": Lstm().eval(), "encoder": Encoder().eval(), "mha": Mha().eval()}
    warnings.filterwarnings("ignore")
    for name, m in models.items():
        # Exported while the weights require gradients: otherwise torch traces
        # nn.TransformerEncoderLayer's fused inference path, which has no ONNX form.
        torch.onnx.export(m, torch.randn(1, T, D), os.path.join(models_dir, name + ".onnx"), opset_version=17,
                          input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
        for p in m.parameters():
            p.requires_grad_(False)
    os.environ["TRIM_BENCH_MODELS"] = models_dir
    binary = os.path.join(args.build, "bench", "bench_recurrent")
    spans = [(s, s + SPAN - 1) for s in range(T - SPAN + 1)]

    def forward(m, n):
        x = torch.randn(n, T, D)
        return lambda: m(x)

    def ig(m):
        x = torch.randn(1, T, D)
        alphas = torch.linspace(0.01, 0.99, 50).view(50, 1, 1)

        def run():
            xi = (alphas * x).requires_grad_(True)
            m(xi)[:, 0].sum().backward()
        return run

    cases = []
    for name in ("lstm", "encoder", "mha"):
        m = models[name]
        cases += [("BM_%s_forward/1" % name, forward(m, 1)), ("BM_%s_forward/%d" % (name, T), forward(m, T)),
                  ("BM_%s_ig50" % name, ig(m))]
        x1 = torch.randn(T, D)
        cd = (lambda m=m, x1=x1: cd_text_spans(m, x1, spans)) if name == "lstm" else None
        cases.append(("BM_%s_cd_spans" % name, cd))
    print("torch %s, %d threads; medians of %d repetitions" % (torch.__version__, THREADS, args.repetitions))
    print("%-26s %10s %10s %8s" % ("case", "trim ms", "torch ms", "ratio"))
    for name, fn in cases:
        t_trim = trim_time(binary, name, args.repetitions)[0]
        if fn is None:
            print("%-26s %10.3f %10s %8s" % (name, t_trim * 1e3, "-", "-"))
            continue
        with torch.no_grad() if "ig50" not in name else torch.enable_grad():
            t_torch = median_time(fn, args.repetitions)
        print("%-26s %10.3f %10.3f %8.2f" % (name, t_trim * 1e3, t_torch * 1e3, t_trim / t_torch))


if __name__ == "__main__":
    main()
