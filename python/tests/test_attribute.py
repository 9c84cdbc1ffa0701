"""trim.attribute and trim.sweep: the CLI's results bit for bit, the accepted argument forms, exact properties, errors."""
import json

import numpy as np
import pytest

import trim
from conftest import assert_bit_equal, model_path, rng_array

# (method, transform, extra CLI args, extra Python kwargs); lenet takes [1,16,16], mlp [4,5].
CASES = [
    ("gradient", "fft2", [], {}),
    ("saliency", "dct2", [], {}),
    ("input_x_gradient", "rfft2:ortho", [], {}),
    ("smoothgrad", "fft2", ["--samples", "3", "--stdev", "0.5", "--seed", "7"], dict(samples=3, stdev=0.5, seed=7)),
    ("integrated_gradients", "fft2", ["--steps", "8", "--baseline", "0.25"], dict(steps=8, baseline=0.25)),
    ("deeplift", "dwt2:haar:2", [], {}),
    ("deeplift_shap", "identity", ["--baseline", "BASELINES"], dict(baseline="BASELINES")),
    ("gradient_shap", "dct2", ["--baseline", "BASELINES", "--samples", "4", "--seed", "3"],
     dict(baseline="BASELINES", samples=4, seed=3)),
    ("feature_ablation", "fft2", ["--groups", "radial:4"], dict(groups="radial:4")),
    ("occlusion", "fft2", ["--window", "4,4", "--strides", "4,4"], dict(window=(4, 4), strides=(4, 4))),
    ("shapley", "dwt2:haar:1", ["--groups", "subbands", "--seed", "2"], dict(groups="subbands", seed=2)),
]


@pytest.mark.parametrize("method,spec,cli_args,kwargs", CASES, ids=[c[0] for c in CASES])
def test_attribute_equals_cli(tmp_path, cli, lenet, method, spec, cli_args, kwargs):
    # 10 examples: the CLI's chunks of 8 and the random methods' seed + e both matter.
    x = rng_array((10, 1, 16, 16), 4)
    baselines = rng_array((3, 1, 16, 16), 5)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "b.npy", baselines)
    cli_args = [str(tmp_path / "b.npy") if a == "BASELINES" else a for a in cli_args]
    kwargs = {k: (baselines if v == "BASELINES" else v) for k, v in kwargs.items()}
    cli("attribute", model_path("lenet"), tmp_path / "x.npy", "--transform", spec, "--method", method,
        "--target", "0,3", *cli_args, "-o", tmp_path / "a.npy", "--quiet")
    r = trim.attribute(lenet, x, transform=spec, method=method, target=[0, 3], **kwargs)
    expected = np.load(tmp_path / "a.npy")
    written = r.group_scores if "groups" in kwargs else r.attributions
    assert_bit_equal(written, expected)
    assert r.targets == [0, 3] and r.method == method


def test_cd_and_groups_forms_equal_cli(tmp_path, cli, mlp):
    x = rng_array((3, 4, 5), 6)
    np.save(tmp_path / "x.npy", x)
    t = trim.Transform("fft2", (4, 5))
    labels = t.groupings.radial(3).labels
    np.save(tmp_path / "mask.npy", labels[..., 0])
    cli("attribute", model_path("mlp"), tmp_path / "x.npy", "--transform", "fft2", "--method", "cd",
        "--groups", f"mask:{tmp_path / 'mask.npy'}", "-o", tmp_path / "cd.npy", "--quiet")
    expected = np.load(tmp_path / "cd.npy")
    for groups in ("radial:3", t.groupings.radial(3), labels, labels[..., 0]):
        r = trim.attribute(mlp, x, transform=t, method="cd", groups=groups)
        assert r.attributions is None and r.delta is None
        assert_bit_equal(r.group_scores, expected)
    assert r.group_scores.shape == (3, 3, 3)


def test_layout_completeness_and_groups(mlp):
    x = rng_array((2, 4, 5), 7)
    r = trim.attribute(mlp, x, transform="dct2", method="integrated_gradients", steps=64)
    assert r.attributions.shape == (3, 2, 4, 5) and r.delta.shape == (3, 2) and r.group_scores is None
    # Completeness: sum of attributions = F(x) - F(baseline) up to the reported delta, which is small.
    s = r.attributions.reshape(3, 2, -1).sum(-1)
    change = (mlp.predict(x) - mlp.predict(np.zeros_like(x))).T
    np.testing.assert_allclose(s - change, r.delta, atol=1e-4)
    assert np.max(np.abs(r.delta)) < 1e-2 * max(1.0, np.max(np.abs(change)))
    # Group scores are the sums of the attributions over each group.
    t = trim.Transform("dct2", (4, 5))
    labels = rng_array((4, 5), 8) > 0
    g = trim.attribute(mlp, x, transform=t, method="integrated_gradients", steps=64, groups=labels.astype(int))
    for k in range(2):
        np.testing.assert_allclose(g.group_scores[..., k], g.attributions[..., labels == bool(k)].sum(-1), rtol=1e-5,
                                   atol=1e-6)
    # max_batch only splits the rows sent through the model: the same result.
    small = trim.attribute(mlp, x, transform="dct2", method="integrated_gradients", steps=64, max_batch=5)
    np.testing.assert_allclose(small.attributions, r.attributions, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="max_batch must be >= 1"):
        trim.attribute(mlp, x, transform="dct2", method="gradient", max_batch=0)
    # So does a memory budget; one too small for a row is refused.
    budget = trim.attribute(mlp, x, transform="dct2", method="integrated_gradients", steps=64, max_memory=20000)
    np.testing.assert_allclose(budget.attributions, r.attributions, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="too small for one row"):
        trim.attribute(mlp, x, transform="dct2", method="gradient", max_memory=16)
    # "all", a list and an index select the same rows.
    every = trim.attribute(mlp, x, transform="dct2", method="gradient", target="all")
    two = trim.attribute(mlp, x, transform="dct2", method="gradient", target=[2, 0])
    assert every.targets == [0, 1, 2] and two.targets == [2, 0]
    assert_bit_equal(two.attributions, every.attributions[[2, 0]])
    # One example: the batch axis is kept (the CLI's layout).
    one = trim.attribute(mlp, x[0], transform="dct2", method="gradient", target=1)
    assert one.attributions.shape == (1, 1, 4, 5)


def test_gradient_shap_convergence_delta_equals_cli(tmp_path, cli, mlp):
    x = rng_array((3, 4, 5), 12)
    baselines = rng_array((4, 4, 5), 13)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "b.npy", baselines)
    kwargs = dict(transform="fft2", method="gradient_shap", baseline=baselines, samples=5, stdev=0.1, seed=2)
    on = trim.attribute(mlp, x, **kwargs)
    off = trim.attribute(mlp, x, convergence_delta=False, **kwargs)
    explicit = trim.attribute(mlp, x, convergence_delta=True, **kwargs)
    # The same samples either way; off, no delta (None, not zeros).
    assert_bit_equal(off.attributions, on.attributions)
    assert off.delta is None and "delta None" in repr(off)
    assert on.delta.shape == (3, 3)
    assert_bit_equal(explicit.delta, on.delta)
    # The delta is what it says: sum of attributions - (F(x) - mean_b F(b)), up to float sums.
    change = (mlp.predict(x) - mlp.predict(baselines).mean(0)).T
    np.testing.assert_allclose(on.attributions.reshape(3, 3, -1).sum(-1) - change, on.delta, atol=1e-4)
    # And the CLI's: the same delta in its JSON, the same note when off.
    base = ["attribute", model_path("mlp"), tmp_path / "x.npy", "--transform", "fft2", "--method", "gradient_shap",
            "--baseline", tmp_path / "b.npy", "--samples", "5", "--stdev", "0.1", "--seed", "2", "--quiet"]
    cli(*base, "-o", tmp_path / "on.npy", "--json", tmp_path / "on.json")
    cli(*base, "--no-convergence-delta", "-o", tmp_path / "off.npy", "--json", tmp_path / "off.json")
    assert_bit_equal(np.load(tmp_path / "off.npy"), off.attributions)
    written = json.loads((tmp_path / "on.json").read_text())
    assert_bit_equal(np.array(written["delta"], dtype=np.float32), on.delta)
    skipped = json.loads((tmp_path / "off.json").read_text())
    assert skipped["delta"] is None and "--no-convergence-delta" in skipped["delta_not_computed"]
    assert "max_abs_delta" not in skipped
    # Only gradient_shap reads it, whether True or False.
    for method in ("integrated_gradients", "deeplift", "gradient"):
        for value in (True, False):
            with pytest.raises(ValueError, match=f"convergence_delta does not apply to method '{method}'"):
                trim.attribute(mlp, x, method=method, convergence_delta=value)


def test_sweep_equals_cli(tmp_path, cli, convopts):
    x = rng_array((5, 4, 11, 9), 9)
    np.save(tmp_path / "x.npy", x)
    cli("sweep", model_path("convopts"), tmp_path / "x.npy", "--transform", "fft2", "--centers", "0.05:1.35:14",
        "--width", "0.2", "--target", "2", "-o", tmp_path / "curve.npy", "--quiet")
    # The CLI's A:B:N values (a + (b - a) i / (n - 1) in double).
    centers = [0.05 + (1.35 - 0.05) * i / 13 for i in range(14)]
    curve = trim.sweep(convopts, x, transform="fft2", centers=centers, width=0.2, target=2)
    assert curve.shape == (1, 5, 14)
    assert_bit_equal(curve, np.load(tmp_path / "curve.npy"))


def test_errors(lenet, mlp):
    x = rng_array((2, 4, 5), 10)
    with pytest.raises(ValueError, match="unknown method 'ig'"):
        trim.attribute(mlp, x, method="ig")
    with pytest.raises(ValueError, match="steps does not apply to method 'gradient'"):
        trim.attribute(mlp, x, method="gradient", steps=10)
    with pytest.raises(ValueError, match="needs groups"):
        trim.attribute(mlp, x, method="cd")
    with pytest.raises(ValueError, match="needs window"):
        trim.attribute(mlp, x, method="occlusion")
    with pytest.raises(ValueError, match="target 3 is out of range"):
        trim.attribute(mlp, x, target=3)
    with pytest.raises(TypeError):
        trim.attribute(mlp, x, target=1.5)
    with pytest.raises(ValueError, match="unknown grouping"):
        trim.attribute(mlp, x, transform="fft2", method="feature_ablation", groups="rings:3")
    with pytest.raises(ValueError, match="radial"):
        trim.attribute(mlp, x, transform="dct2", method="feature_ablation", groups="radial:3")
    with pytest.raises(ValueError, match="opaque"):
        trim.attribute(lenet, rng_array((1, 16, 16), 1), transform="fft2", method="cd", groups="radial:3")
    with pytest.raises(ValueError, match="baseline holds 3 examples"):
        trim.attribute(mlp, x, baseline=rng_array((3, 4, 5), 1))
    with pytest.raises(ValueError, match="Fourier"):
        trim.sweep(mlp, x, transform="dct2", centers=[0.5], width=0.1)
    with pytest.raises(ValueError, match="width"):
        trim.sweep(mlp, x, centers=[0.5], width=0)
    with pytest.raises(TypeError):
        trim.attribute(mlp, x, transform=3)
    with pytest.raises(ValueError, match="transform 'fft2' is for examples of shape"):
        trim.attribute(mlp, x, transform=trim.Transform("fft2", (1, 4, 5)))
