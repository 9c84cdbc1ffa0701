"""trim.NMF: scikit-learn's values and semantics, the CLI's dictionary file, use as a transform."""
import numpy as np
import pytest

import trim
from conftest import assert_bit_equal


def data(n=30, m=12, seed=0):
    rng = np.random.default_rng(seed)
    return np.abs(rng.standard_normal((n, 4)) @ rng.standard_normal((4, m))) + 0.1 * rng.random((n, m))


def test_equals_scikit_learn():
    sklearn = pytest.importorskip("sklearn.decomposition")
    X = data()
    for solver, beta in (("cd", "frobenius"), ("mu", "kullback-leibler")):
        ref = sklearn.NMF(n_components=4, init="nndsvda", solver=solver, beta_loss=beta, max_iter=400, tol=1e-6)
        W_ref = ref.fit_transform(X)
        n = trim.NMF(4, init="nndsvda", solver=solver, beta_loss=beta, max_iter=400, tol=1e-6)
        W = n.fit_transform(X)
        assert n.components_.shape == (4, 12) and W.shape == (30, 4) and W.dtype == np.float64
        assert n.n_iter_ == ref.n_iter_
        np.testing.assert_allclose(n.reconstruction_err_, ref.reconstruction_err_, rtol=1e-6)
        np.testing.assert_allclose(n.components_, ref.components_, rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(W, W_ref, rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(n.transform(X[:5]), ref.transform(X[:5]), rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(n.inverse_transform(W), W @ n.components_, rtol=1e-12)
    assert n.n_components_ == 4 and n.n_features_in_ == 12
    assert n.fit(X) is n


def test_save_equals_cli_and_transforms(tmp_path, cli, mlp):
    X = data(40, 20, 1)
    np.save(tmp_path / "X.npy", X)
    cli("nmf", tmp_path / "X.npy", "--components", "5", "-o", tmp_path / "cli.npy", "--quiet")
    n = trim.NMF(5).fit(X)
    n.save(tmp_path / "py.npy")
    a, b = np.load(tmp_path / "cli.npy"), np.load(tmp_path / "py.npy")
    assert a.dtype == b.dtype == np.float64 and np.array_equal(a, b)
    np.testing.assert_array_equal(trim.NMF.load(tmp_path / "py.npy").components_, n.components_)
    # The dictionary as a TRIM transform over mlp's [4,5] inputs (20 features).
    t = trim.Transform(f"nmf:{tmp_path / 'py.npy'}", (20,))
    assert t.coefficient_shape == (5,) and not t.exact
    x = np.abs(np.random.default_rng(2).standard_normal((3, 4, 5))).astype(np.float32)
    codes = t.forward(x.reshape(3, 20))
    assert codes.shape == (3, 5) and np.all(codes >= 0)
    # Its components are the groups: one coefficient each.
    comp = t.groupings.components()
    assert len(comp) == 5 and comp.labels.tolist() == [0, 1, 2, 3, 4]


def test_errors():
    with pytest.raises(ValueError, match="non-negative"):
        trim.NMF(2).fit(-np.ones((4, 3)))
    with pytest.raises(ValueError, match="2-D"):
        trim.NMF(2).fit(np.ones(4))
    with pytest.raises(ValueError, match="solver"):
        trim.NMF(2, solver="als")
    with pytest.raises(AttributeError, match="not fitted"):
        trim.NMF(2).components_
    with pytest.raises(ValueError):
        trim.NMF(0)
