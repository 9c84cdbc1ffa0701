"""PyTorch reference values for recurrent layers (ONNX LSTM and GRU) and for
contextual decomposition of an LSTM as acd defines it.

Run with Debian's python3-torch 1.13 / python3-onnx:
    /usr/bin/python3 tests/reference/make_recurrent.py

Models (random weights, float input [N, T, width], exported at opsets 13 and
17 with a dynamic batch axis) go to data/recurrent/<name>_op<opset>.onnx and
data/recurrent/<name>.txt: x1/x3 inputs at batch 1 and 3, y outputs, u
cotangents, dx input gradients of sum(y*u), grad:<trim parameter> the
recurrent weights' gradients of sum(y3*u3) (param_grads).

`lstm_acd` is acd's LSTMSentiment shape (a single-layer LSTM over word vectors
read sequence-first, a Linear on the last hidden state). data/recurrent/
lstm_acd.txt also holds, for each example of x3 and each span of time steps
`spans` (rows start, stop inclusive), the relevant and irrelevant scores of
acd's `cd_text` (scores/cd.py, Murdoch et al. 2018), written out below from
its published equations, continued through the final Linear by acd's
`propagate_conv_linear` (the bias split in proportion to |W rel| and
|W irrel|): cd_rel[e, s, k], cd_irrel[e, s, k].
"""
import io
import os

import numpy as np
import torch
import torch.nn as nn

from fixture import write_fixture

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "data", "recurrent")
os.makedirs(out, exist_ok=True)

T, D, H = 6, 5, 4


class LstmBatchFirst(nn.Module):
    """Two bidirectional layers, batch_first, zero initial state (none given)."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(D, H, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(2 * H, 3)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y[:, -1])


class LstmSeqFirst(nn.Module):
    """One layer read sequence-first, initial state given (h0 zeros, c0 = 0.3
    everywhere, both of shape [1, N, H]), classifier on h_n."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(D, H)
        self.fc = nn.Linear(H, 3)

    def forward(self, x):
        s = x.transpose(0, 1)
        h0 = torch.zeros(1, x.size(0), H)
        c0 = torch.full((1, x.size(0), H), 0.3)
        _, (h, c) = self.rnn(s, (h0, c0))
        return self.fc(h[-1])


class GruBatchFirst(nn.Module):
    """One bidirectional GRU layer, batch_first, mean over time."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(D, H, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(2 * H, 3)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y.mean(1))


class GruSeqFirst(nn.Module):
    """Two GRU layers read sequence-first, zero initial state given."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(D, H, num_layers=2)
        self.fc = nn.Linear(H, 3)

    def forward(self, x):
        h0 = torch.zeros(2, x.size(0), H)
        y, _ = self.rnn(x.transpose(0, 1), h0)
        return self.fc(y[-1])


AT, AD, AH = 7, 6, 5


class LstmAcd(nn.Module):
    """acd's LSTMSentiment after the embedding: LSTM(6, 5) over word vectors
    read sequence-first, hidden_to_label on the last hidden state."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(AD, AH)
        self.hidden_to_label = nn.Linear(AH, 3)

    def forward(self, x):
        y, _ = self.lstm(x.transpose(0, 1))
        return self.hidden_to_label(y[-1])


class LstmTokens(nn.Module):
    """A token model: Embedding(30, 6) of int64 ids [N, 7], LSTM(6, 5) read
    sequence-first, Linear on the last hidden state. trim explains it in the
    space of the embedded sequence."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(30, AD)
        self.lstm = nn.LSTM(AD, AH)
        self.fc = nn.Linear(AH, 3)

    def embedded(self, e):
        y, _ = self.lstm(e.transpose(0, 1))
        return self.fc(y[-1])

    def forward(self, ids):
        return self.embedded(self.emb(ids))


def make_token_model(seed):
    torch.manual_seed(seed)
    model = LstmTokens().eval()
    t = {}
    for n in (1, 3):
        ids = torch.randint(0, 30, (n, AT))
        e = model.emb(ids).detach().requires_grad_(True)
        y = model.embedded(e)
        u = torch.randn(y.shape)
        model.zero_grad()
        (y * u).sum().backward()
        t["ids%d" % n], t["x%d" % n], t["y%d" % n], t["u%d" % n], t["dx%d" % n] = ids.float(), e.detach(), y.detach(), u, e.grad
    t.update(param_grads(model))  # of sum(y3 * u3)
    for opset in (13, 17):
        torch.onnx.export(model, torch.zeros(1, AT, dtype=torch.int64), os.path.join(out, "lstm_tokens_op%d.onnx" % opset),
                          opset_version=opset, input_names=["ids"], output_names=["y"],
                          dynamic_axes={"ids": {0: "N"}, "y": {0: "N"}})
    write_fixture(os.path.join(out, "lstm_tokens.txt"), t,
                  comment="LstmTokens: ids (int64 as float), x = embedding(ids), y, u, dx = d<y,u>/dx")


MODELS = {
    "lstm_bf": (LstmBatchFirst, (T, D)),
    "lstm_sf": (LstmSeqFirst, (T, D)),
    "gru_bf": (GruBatchFirst, (T, D)),
    "gru_sf": (GruSeqFirst, (T, D)),
    "lstm_acd": (LstmAcd, (AT, AD)),
}


# ---- acd's cd_text, from the published equations ------------------------------------

def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def decomp_three(a, b, c, activation):
    a_contrib = 0.5 * (activation(a + c) - activation(c) + activation(a + b + c) - activation(b + c))
    b_contrib = 0.5 * (activation(b + c) - activation(c) + activation(a + b + c) - activation(a + c))
    return a_contrib, b_contrib, activation(c)


def decomp_tanh_two(a, b):
    return (0.5 * (np.tanh(a) + (np.tanh(a + b) - np.tanh(b))),
            0.5 * (np.tanh(b) + (np.tanh(a + b) - np.tanh(a))))


def cd_text(model, word_vecs, start, stop):
    """acd's cd_text for one sequence word_vecs [T, D] and the span start..stop
    (inclusive): relevant and irrelevant last hidden states."""
    w = {k: v.double().numpy() for k, v in model.lstm.state_dict().items()}
    W_ii, W_if, W_ig, W_io = np.split(w["weight_ih_l0"], 4, 0)
    W_hi, W_hf, W_hg, W_ho = np.split(w["weight_hh_l0"], 4, 0)
    b_i, b_f, b_g, b_o = np.split(w["bias_ih_l0"] + w["bias_hh_l0"], 4)
    n_t, hd = word_vecs.shape[0], W_hi.shape[0]
    relevant = np.zeros((n_t, hd))
    irrelevant = np.zeros((n_t, hd))
    relevant_h = np.zeros((n_t, hd))
    irrelevant_h = np.zeros((n_t, hd))
    for i in range(n_t):
        prev_rel_h = relevant_h[i - 1] if i > 0 else np.zeros(hd)
        prev_irrel_h = irrelevant_h[i - 1] if i > 0 else np.zeros(hd)
        rel_i, rel_g, rel_f, rel_o = (W @ prev_rel_h for W in (W_hi, W_hg, W_hf, W_ho))
        irrel_i, irrel_g, irrel_f, irrel_o = (W @ prev_irrel_h for W in (W_hi, W_hg, W_hf, W_ho))
        x = word_vecs[i]
        if start <= i <= stop:
            rel_i, rel_g, rel_f, rel_o = rel_i + W_ii @ x, rel_g + W_ig @ x, rel_f + W_if @ x, rel_o + W_io @ x
        else:
            irrel_i, irrel_g = irrel_i + W_ii @ x, irrel_g + W_ig @ x
            irrel_f, irrel_o = irrel_f + W_if @ x, irrel_o + W_io @ x
        rel_contrib_i, irrel_contrib_i, bias_contrib_i = decomp_three(rel_i, irrel_i, b_i, sigmoid)
        rel_contrib_g, irrel_contrib_g, bias_contrib_g = decomp_three(rel_g, irrel_g, b_g, np.tanh)
        relevant[i] = rel_contrib_i * (rel_contrib_g + bias_contrib_g) + bias_contrib_i * rel_contrib_g
        irrelevant[i] = (irrel_contrib_i * (rel_contrib_g + irrel_contrib_g + bias_contrib_g)
                         + (rel_contrib_i + bias_contrib_i) * irrel_contrib_g)
        if start <= i <= stop:
            relevant[i] += bias_contrib_i * bias_contrib_g
        else:
            irrelevant[i] += bias_contrib_i * bias_contrib_g
        if i > 0:
            rel_contrib_f, irrel_contrib_f, bias_contrib_f = decomp_three(rel_f, irrel_f, b_f, sigmoid)
            relevant[i] += (rel_contrib_f + bias_contrib_f) * relevant[i - 1]
            irrelevant[i] += ((rel_contrib_f + irrel_contrib_f + bias_contrib_f) * irrelevant[i - 1]
                              + irrel_contrib_f * relevant[i - 1])
        o = sigmoid(W_io @ x + W_ho @ (prev_rel_h + prev_irrel_h) + b_o)
        new_rel_h, new_irrel_h = decomp_tanh_two(relevant[i], irrelevant[i])
        relevant_h[i] = o * new_rel_h
        irrelevant_h[i] = o * new_irrel_h
    return relevant_h[n_t - 1], irrelevant_h[n_t - 1]


def propagate_linear(W, b, rel, irrel):
    """acd's propagate_conv_linear: the bias split by |W rel| : |W irrel|."""
    r, q = W @ rel, W @ irrel
    pr, pq = np.abs(r) + 1e-20, np.abs(q) + 1e-20
    return r + b * pr / (pr + pq), q + b * pq / (pr + pq)


SPANS = [(0, 2), (3, 3), (4, 6), (2, 5)]


def param_grads(model):
    """Gradients of torch's recurrent weights in trim's parameters (ONNX layout:
    gate order LSTM i, o, f, c and GRU z, r, h; an LSTM's two biases are one
    parameter Wb + Rb), keyed "grad:<trim parameter name>": the unrolled node
    of layer l is named after ONNX's "/<module>/LSTM" ("_l" for layer l > 0),
    with "/fw" and "/bw" for the two directions of a bidirectional layer."""
    out_ = {}
    for mod_name, m in model.named_children():
        if not isinstance(m, (nn.LSTM, nn.GRU)):
            continue
        lstm = isinstance(m, nn.LSTM)
        H_ = m.hidden_size
        order = ([*range(0, H_), *range(3 * H_, 4 * H_), *range(H_, 3 * H_)] if lstm else
                 [*range(H_, 2 * H_), *range(0, H_), *range(2 * H_, 3 * H_)])
        for layer in range(m.num_layers):
            node = "/%s/%s%s" % (mod_name, "LSTM" if lstm else "GRU", "_%d" % layer if layer else "")
            for d, suffix in enumerate(["", "_reverse"][:2 if m.bidirectional else 1]):
                base = node + (("/bw" if d else "/fw") if m.bidirectional else "")
                g = {k: getattr(m, "%s_l%d%s" % (k, layer, suffix)).grad[order]
                     for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
                out_["grad:" + base + "/W"] = g["weight_ih"]
                out_["grad:" + base + "/R"] = g["weight_hh"]
                if lstm:
                    out_["grad:" + base + "/bias"] = g["bias_ih"]  # = bias_hh's: they are summed
                else:
                    out_["grad:" + base + "/Wb"] = g["bias_ih"]
                    out_["grad:" + base + "/Rb"] = g["bias_hh"]
    return out_


def make_model(name, seed):
    cls, shape = MODELS[name]
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
    t.update(param_grads(model))  # of sum(y3 * u3)
    if name == "lstm_acd":
        W = model.hidden_to_label.weight.detach().double().numpy()
        b = model.hidden_to_label.bias.detach().double().numpy()
        x3 = t["x3"].double().numpy()
        rel = np.zeros((3, len(SPANS), 3))
        irrel = np.zeros((3, len(SPANS), 3))
        for e in range(3):
            for s, (start, stop) in enumerate(SPANS):
                rh, qh = cd_text(model, x3[e], start, stop)
                rel[e, s], irrel[e, s] = propagate_linear(W, b, rh, qh)
                assert np.allclose(rel[e, s] + irrel[e, s], t["y3"][e].double().numpy(), atol=1e-5)
        t["spans"] = np.array(SPANS, dtype=np.float32)
        t["cd_rel"], t["cd_irrel"] = rel, irrel
    for opset in (13, 17):
        f = io.BytesIO()
        torch.onnx.export(model, t["x1"], f, opset_version=opset, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
        data = f.getvalue()
        assert len(data) < 100_000, (name, len(data))
        with open(os.path.join(out, "%s_op%d.onnx" % (name, opset)), "wb") as fo:
            fo.write(data)
    write_fixture(os.path.join(out, name + ".txt"), t,
                  comment="%s (torch.onnx.export at opsets 13 and 17); x1/x3 inputs at batch 1 and 3, y outputs, "
                          "u cotangents, dx input gradients of sum(y*u); grad:<trim parameter> the "
                          "recurrent weights' gradients of sum(y3*u3) in ONNX layout" % name +
                          ("\nspans [start, stop] inclusive; cd_rel/cd_irrel [example, span, class]: acd's cd_text "
                           "then propagate_conv_linear" if name == "lstm_acd" else ""))


if __name__ == "__main__":
    import warnings
    warnings.filterwarnings("ignore")
    for k, name in enumerate(MODELS):
        make_model(name, 300 + k)
    make_token_model(310)
    print("wrote", out)
