"""The cosmology demo (examples/demo) in Python: simulate maps with NumPy, train the
CNN with PyTorch, explain it with trim from NumPy arrays. docs/python.md walks
through it cell by cell.

    PYTHONPATH=build/python /usr/bin/python3 python/examples/cosmology.py
"""
import io
import time

import numpy as np
import torch

import trim

# --- 1. Maps: Gaussian random fields with P(k) = A k^-1 (1 + B exp(-(k - k0)^2 / 2 sigma^2))
n, k0, sigma = 64, 0.65, 0.08
f = np.fft.fftfreq(n) / 0.5  # normalised frequency: 1 = Nyquist along an axis
k = np.hypot(f[:, None], f[None, :])
shape0 = np.divide(1.0, k, out=np.zeros_like(k), where=k > 0)  # k^-1, zero-mean maps
bump = np.exp(-((k - k0) ** 2) / (2 * sigma**2))


def simulate(count, rng):
    a = np.exp(rng.uniform(np.log(0.5), np.log(2.0), count))
    b = rng.uniform(0.0, 4.0, count)
    power = a[:, None, None] * shape0 * (1 + b[:, None, None] * bump) / shape0.mean()
    noise = np.fft.fft2(rng.standard_normal((count, n, n)))
    maps = np.fft.ifft2(noise * np.sqrt(power)).real
    return maps[:, None].astype(np.float32), np.stack([np.log(a), b], 1).astype(np.float32)


rng = np.random.default_rng(0)
x_train, y_train = simulate(3000, rng)
x_test, y_test = simulate(500, rng)
mu, sd = y_train.mean(0), y_train.std(0)
print("maps", x_train.shape, "targets (log A, B)", y_train.shape)

# --- 2. The CNN, trained with PyTorch on the standardised targets
torch.manual_seed(0)
cnn = torch.nn.Sequential(
    torch.nn.Conv2d(1, 16, 5, stride=2, padding=2), torch.nn.ReLU(),
    torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
    torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))
opt = torch.optim.Adam(cnn.parameters(), lr=3e-3)
xt, yt = torch.from_numpy(x_train), torch.from_numpy((y_train - mu) / sd)
t0 = time.perf_counter()
for epoch in range(24):
    for i in torch.randperm(len(xt)).split(32):
        opt.zero_grad()
        torch.nn.functional.mse_loss(cnn(xt[i]), yt[i]).backward()
        opt.step()
print(f"trained in {time.perf_counter() - t0:.1f} s")

buf = io.BytesIO()
torch.onnx.export(cnn, xt[:1], buf, input_names=["map"], output_names=["y"],
                  dynamic_axes={"map": {0: "N"}, "y": {0: "N"}}, opset_version=13)

# --- 3. The model in trim, from the ONNX bytes: no file, no PyTorch from here on
model = trim.Model.from_onnx(buf.getvalue())
print(model)
info = model.info()
print("kinds", info["kinds"], "cd_blocker", info["cd_blocker"])
pred = model.predict(x_test) * sd + mu
r2 = 1 - ((pred - y_test) ** 2).sum(0) / ((y_test - y_test.mean(0)) ** 2).sum(0)
print(f"held-out R^2: log A {r2[0]:.3f}, B {r2[1]:.3f}")

# --- 4. TRIM in fft2 space: the CD band sweep and integrated gradients of radial bands
maps = trim.asarray(x_test[:100])  # 64-byte aligned float32: read without a copy
centers = np.linspace(0.05, 1.40, 100)
t0 = time.perf_counter()
curve = trim.sweep(model, maps, transform="fft2", centers=centers, width=0.1)  # (2, 100, 100)
print(f"CD sweep {curve.shape} in {time.perf_counter() - t0:.1f} s")
mean_curve = curve.mean(axis=1)
for i in range(0, 100, 12):
    bar = "#" * int(max(0, 40 * mean_curve[1, i] / mean_curve[1].max()))
    print(f"  radius {centers[i]:.2f}  log A {mean_curve[0, i]:8.3f}  B {mean_curve[1, i]:8.3f}  {bar}")
print(f"top band of the B output: radius {centers[mean_curve[1].argmax()]:.2f} (k0 = {k0})")

fft2 = trim.Transform("fft2", model.input_shape)
bands = fft2.groupings.radial(12)
t0 = time.perf_counter()
ig = trim.attribute(model, maps, transform=fft2, method="integrated_gradients", groups=bands, steps=128)
print(f"integrated gradients {ig.group_scores.shape} in {time.perf_counter() - t0:.1f} s;"
      f" max |completeness delta| {np.abs(ig.delta).max():.4f}")
scores = ig.group_scores.mean(axis=1)
for c, a_score, b_score in zip(bands.centers, scores[0], scores[1]):
    print(f"  radius {c:.3f}  log A {a_score:8.4f}  B {b_score:8.4f}{'  <- k0' if abs(c - k0) < 0.06 else ''}")

# --- 5. Ground truth: B lives at k0. How often does the top band of the B output hold it?
half = (bands.centers[1] - bands.centers[0]) / 2
top = bands.centers[ig.group_scores[1].argmax(axis=1)]
print(f"top IG band holds k0 for {np.mean(np.abs(top - k0) <= half):.0%} of the maps")
top_cd = centers[curve[1].argmax(axis=1)]
print(f"top CD band within 0.1 of k0 for {np.mean(np.abs(top_cd - k0) <= 0.1):.0%} of the maps")

# --- 6. Is the answer faithful to the model? Deletion / insertion of the bands against random orders
t0 = time.perf_counter()
ev = trim.evaluate(model, maps[:20], trim.attribute(model, maps[:20], transform=fft2,
                   method="integrated_gradients", groups=bands, steps=32), transform=fft2)
print(f"evaluate {ev.deletion.shape} in {time.perf_counter() - t0:.1f} s")
for name in ("deletion_auc", "random_deletion_auc", "insertion_auc", "random_insertion_auc",
             "road_morf_auc", "road_lerf_auc", "mu_fidelity"):
    print(f"  {name:22s} {ev.summary[name]:8.4f}")
