"""trim.evaluate: the report of `trim evaluate` on the same files, number for number; the argument forms; errors."""
import json
import signal
import threading
import os
import time

import numpy as np
import pytest

import trim
from conftest import assert_bit_equal, model_path, rng_array

# (model, transform, CLI args, Python kwargs): per-coefficient scores with the method re-run
# (sensitivity_max, randomisation), group scores, a lossy transform with its residual, options.
CASES = [
    ("mlp", "fft2", ["--method", "integrated_gradients", "--steps", "8"],
     dict(method="integrated_gradients", steps=8), "integrated_gradients", {}),
    ("mlp", "fft2", ["--groups", "radial:4", "--method", "cd", "--curve-steps", "3", "--random-orders", "4",
                     "--seed", "5", "--by-magnitude", "--target", "1"],
     dict(groups="radial:4", method="cd", curve_steps=3, random_orders=4, seed=5, by_magnitude=True, target=1),
     "cd", dict(groups="radial:4", target=1)),
    ("lenet", "dwt2:db2:1", ["--baseline", "0.5", "--no-road", "--subsets", "7", "--subset-fraction", "0.5",
                             "--road-noise", "0.1", "--target", "0,3"],
     dict(baseline=0.5, road=False, subsets=7, subset_fraction=0.5, road_noise=0.1, target=[0, 3]),
     "gradient", dict(target=[0, 3])),
    ("lenet", "dwt2:haar:1", ["--groups", "subbands", "--method", "gradient", "--no-randomisation", "--target", "2",
                              "--residual"],
     dict(groups="subbands", method="gradient", randomisation=False, target=2, residual=True),
     "gradient", dict(groups="subbands", target=2, residual=True)),
]


def as_float32_table(values):
    return np.array(values, dtype=np.float64).astype(np.float32)


@pytest.mark.parametrize("name,spec,cli_args,kwargs,method,attr_kwargs", CASES,
                         ids=["ig", "cd-groups-options", "lossy-options", "residual-no-randomisation"])
def test_evaluate_equals_cli(tmp_path, cli, name, spec, cli_args, kwargs, method, attr_kwargs):
    model = trim.Model.from_onnx(model_path(name))
    x = rng_array((3, *model.input_shape), 8)
    a = trim.attribute(model, x, transform=spec, method=method, **attr_kwargs)
    scores = a.group_scores if "groups" in attr_kwargs else a.attributions
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "a.npy", scores)
    cli("evaluate", model_path(name), tmp_path / "x.npy", "--transform", spec, "--attributions",
        tmp_path / "a.npy", *cli_args, "-o", tmp_path / "report.json", "--quiet")
    expected = json.loads((tmp_path / "report.json").read_text())
    e = trim.evaluate(model, x, scores, transform=spec, **kwargs)
    # The report: the same numbers (JSON keeps every double exactly), the same keys.
    assert e.report == expected["report"]
    assert e.targets == expected["targets"]
    # The summary and the arrays are those numbers.
    for metric, row in expected["report"]["summary"].items():
        assert e.summary[metric] == row["mean"], metric
    per = expected["report"]["per_target_and_example"]
    for metric in ("deletion_auc", "insertion_auc", "road_morf_auc", "road_lerf_auc", "mu_fidelity",
                   "infidelity", "sensitivity_max"):
        got = getattr(e, metric)
        if per[metric]:
            assert_bit_equal(got, as_float32_table(per[metric]))
        else:
            assert got is None, metric
    assert e.fractions.tolist() == expected["report"]["mean_curves"]["fraction_removed"]
    assert e.deletion.shape == (len(e.targets), 3, len(e.fractions))
    if "randomisation" in expected["report"]:
        assert e.randomisation_layers == expected["report"]["randomisation"]["layers_from_the_top"]
        assert e.randomisation.shape == (len(e.randomisation_layers), len(e.targets), 3)
    else:
        assert e.randomisation is None and e.randomisation_layers == []
    # The Attribution itself: its scores, targets and grouping; the same report.
    assert trim.evaluate(model, x, a, **{k: v for k, v in kwargs.items() if k not in ("groups", "target")},
                         transform=spec).report == e.report


def test_evaluate_of_one_example_and_float64(mlp):
    x = rng_array((4, 5), 9)
    a = trim.attribute(mlp, x, transform="fft2", method="gradient")
    e = trim.evaluate(mlp, x, a.attributions.astype(np.float64), transform="fft2", random_orders=2)
    assert e.deletion_auc.shape == (3, 1)
    assert e.report == trim.evaluate(mlp, x[None], a, transform="fft2", random_orders=2).report
    assert "trim.Evaluation" in repr(e)
    assert e.random_deletion_mean.shape == e.deletion.shape
    assert trim.evaluate(mlp, x, a, transform="fft2", random_orders=0).random_deletion_mean is None


def test_evaluate_errors(tmp_path, mlp):
    x = rng_array((2, 4, 5), 10)
    a = trim.attribute(mlp, x, transform="fft2", method="gradient")
    with pytest.raises(ValueError, match=r"attributions have shape \[3,2,4,5,2\], expected \[3,2,3\]"):
        trim.evaluate(mlp, x, a.attributions, transform="fft2", groups="radial:3")
    with pytest.raises(ValueError, match=r"expected \[1,2,4,5,2\]"):
        trim.evaluate(mlp, x, a.attributions, transform="fft2", target=0)
    with pytest.raises(ValueError, match="unknown method 'ig'.*integrated_gradients"):
        trim.evaluate(mlp, x, a, transform="fft2", method="ig")
    with pytest.raises(ValueError, match="method 'occlusion' needs a window"):
        trim.evaluate(mlp, x, a, transform="fft2", method="occlusion")
    with pytest.raises(ValueError, match="method 'cd' needs groups"):
        trim.evaluate(mlp, x, a, transform="fft2", method="cd")
    with pytest.raises(ValueError, match="subsets must be in"):
        trim.evaluate(mlp, x, a, transform="fft2", subsets=1)
    with pytest.raises(ValueError, match="steps applies"):
        trim.evaluate(mlp, x, a, transform="fft2", steps=4)
    with pytest.raises(TypeError, match="baseline"):
        trim.evaluate(mlp, x, a, transform="fft2", baseline=np.zeros(3))
    with pytest.raises(ValueError, match="target 5 is out of range"):
        trim.evaluate(mlp, x, a.attributions, transform="fft2", target=5)
    bad = a.attributions.copy()
    bad[1, 0, 2, 3, 1] = np.inf
    with pytest.raises(ValueError, match=r"attributions.*element \[1,0,2,3,1\] is infinite"):
        trim.evaluate(mlp, x, bad, transform="fft2")
    with pytest.raises(TypeError, match="attributions"):
        trim.evaluate(mlp, x, "scores", transform="fft2")
    with pytest.raises(OSError, match="missing.npy"):
        trim.evaluate(mlp, x, a.attributions, transform=f"nmf:{tmp_path / 'missing.npy'}")
    with pytest.raises(ValueError, match="Attribution of method 'gradient' has no group scores"):
        trim.evaluate(mlp, x, a, transform="fft2", groups="radial:3")


def test_evaluate_releases_the_gil_and_stops_on_ctrl_c(convopts):
    x = rng_array((400, 4, 11, 9), 12)
    a = trim.attribute(convopts, x[:1], transform="fft2", method="gradient", target=0)
    scores = np.repeat(a.attributions, len(x), axis=1)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.01)

    th = threading.Thread(target=ticker)
    th.start()
    t0 = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            trim.evaluate(convopts, x, scores, transform="fft2", target=0, curve_steps=100)
    finally:
        timer.cancel()
        stop.set()
        th.join()
    elapsed = time.perf_counter() - t0
    assert elapsed < 5.0, f"stopped after {elapsed:.2f} s"
    assert len([t for t in ticks if t0 + 0.05 < t < t0 + 0.25]) >= 5
