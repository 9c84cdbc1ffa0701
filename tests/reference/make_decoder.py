#!/usr/bin/python3
"""A tiny autoencoder for the `decoder:` transform (tests/transforms/test_decoder.cpp).

Usage: /usr/bin/python3 tests/reference/make_decoder.py
Writes data/onnx/vae_decoder.onnx, data/onnx/vae_encoder.onnx (torch.onnx.export,
opset 13, dynamic batch "N") and data/decoder.txt with
    z      latent codes [3, 4]
    x_of_z the decoder's output for z [3, 64] (PyTorch)
    x      signals [3, 64]
    z_of_x the encoder's output for x [3, 4] (PyTorch; the mean of a VAE's encoder)
    x_in   signals in the decoder's range [3, 64] (decoder(z_in) + small noise)
    z_fit  the least-squares latent code of x_in: argmin_z |decoder(z) - x_in|^2, by
           L-BFGS in float64 from z = 0 (torch.optim.LBFGS, strong Wolfe)
    fit_residual  |decoder(z_fit) - x_in|^2 per example
Decoder: Linear(4, 16) -> Tanh -> Linear(16, 64); encoder: Linear(64, 16) -> Tanh ->
Linear(16, 4). Weights random (seed 7); 64 = one 8x8 map.
"""
import io
import os

import numpy as np
import onnx
import torch
import torch.nn as nn

from fixture import write_fixture

HERE = os.path.dirname(os.path.abspath(__file__))


def export(model, x, name):
    f = io.BytesIO()
    torch.onnx.export(model, x, f, opset_version=13, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, do_constant_folding=True)
    onnx.checker.check_model(onnx.load_from_string(f.getvalue()))
    with open(os.path.join(HERE, "data", "onnx", name + ".onnx"), "wb") as fh:
        fh.write(f.getvalue())


def main():
    torch.manual_seed(7)
    dec = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 64)).eval()
    enc = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 4)).eval()
    export(dec, torch.randn(2, 4), "vae_decoder")
    export(enc, torch.randn(2, 64), "vae_encoder")
    g = torch.Generator().manual_seed(11)
    z = torch.randn(3, 4, generator=g)
    x = torch.randn(3, 64, generator=g)
    z_in = torch.randn(3, 4, generator=g) * 0.7
    with torch.no_grad():
        x_in = dec(z_in) + 0.01 * torch.randn(3, 64, generator=g)
        t = {"z": z, "x_of_z": dec(z), "x": x, "z_of_x": enc(x), "x_in": x_in}
    dec64 = dec.double()
    target = x_in.double()
    zf = torch.zeros(3, 4, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([zf], max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-14,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((dec64(zf) - target) ** 2).sum()
        loss.backward()
        return loss

    for _ in range(5):
        opt.step(closure)
    with torch.no_grad():
        t["z_fit"] = zf.detach()
        t["fit_residual"] = ((dec64(zf) - target) ** 2).sum(1)
    write_fixture(os.path.join(HERE, "data", "decoder.txt"), t,
                  "tiny autoencoder: make_decoder.py (torch %s)" % torch.__version__)


if __name__ == "__main__":
    main()
