"""trim.Transform and trim.Grouping: NumPy / PyWavelets values, the CLI's bits, leading axes, groupings."""
import numpy as np
import pytest

import trim
from conftest import assert_bit_equal, rng_array


def test_fft2_equals_numpy():
    x = rng_array((3, 1, 8, 6), 1)
    t = trim.Transform("fft2", (1, 8, 6))
    assert t.coefficient_shape == (1, 8, 6, 2) and t.exact
    s = t.forward(x)
    ref = np.fft.fft2(x.astype(np.float64))
    np.testing.assert_allclose(s[..., 0], ref.real, atol=1e-4)
    np.testing.assert_allclose(s[..., 1], ref.imag, atol=1e-4)
    np.testing.assert_allclose(t.inverse(s), x, atol=1e-5)
    # rfft2 with NumPy's norm="ortho"
    r = trim.Transform("rfft2:ortho", (1, 8, 6))
    ref = np.fft.rfft2(x.astype(np.float64), norm="ortho")
    sr = r.forward(x)
    np.testing.assert_allclose(sr[..., 0] + 1j * sr[..., 1], ref, atol=1e-5)


def test_dwt2_equals_pywavelets():
    pywt = pytest.importorskip("pywt")
    x = rng_array((2, 1, 16, 16), 2)
    t = trim.Transform("dwt2:db2:2:symmetric", (1, 16, 16))
    s = t.forward(x)
    coeffs = pywt.wavedec2(x.astype(np.float64), "db2", mode="symmetric", level=2, axes=(-2, -1))
    flat = [coeffs[0].reshape(2, 1, -1)]
    for detail in coeffs[1:]:
        flat += [d.reshape(2, 1, -1) for d in detail]
    np.testing.assert_allclose(s, np.concatenate(flat, axis=-1), atol=1e-4)
    np.testing.assert_allclose(t.inverse(s), x, atol=1e-4)
    sub = t.groupings.subbands()
    assert len(sub) == 7 and sub.labels.shape == t.coefficient_shape
    assert len(t.groupings.levels()) == 3


def test_leading_axes_are_kept_and_equal_the_cli(tmp_path, cli):
    x = rng_array((2, 3, 1, 8, 8), 3)
    t = trim.Transform("dct2:ortho", (1, 8, 8))
    s = t.forward(x)
    assert s.shape == (2, 3, 1, 8, 8)
    assert_bit_equal(t.forward(x[1, 2]), s[1, 2])  # one example, no batch axis
    np.save(tmp_path / "x.npy", x)
    cli("transform", "dct2:ortho", tmp_path / "x.npy", "--shape", "1,8,8", "-o", tmp_path / "s.npy")
    assert_bit_equal(s, np.load(tmp_path / "s.npy"))
    np.save(tmp_path / "s.npy", s)
    cli("inverse", "dct2:ortho", tmp_path / "s.npy", "--shape", "1,8,8", "-o", tmp_path / "x2.npy")
    assert_bit_equal(t.inverse(s), np.load(tmp_path / "x2.npy"))


def test_groupings():
    t = trim.Transform("fft2", (1, 8, 8))
    g = t.groupings.radial(4)
    assert len(g) == 4 and g.labels.dtype == np.int32 and g.labels.shape == (1, 8, 8, 2)
    assert g.labels.min() == 0 and g.labels.max() == 3
    assert np.all(g.labels[..., 0] == g.labels[..., 1])  # re and im share a label
    # The DC term is in band 0, the corner (radius sqrt 2) in the last band.
    assert g.labels[0, 0, 0, 0] == 0 and g.labels[0, 4, 4, 0] == 3
    assert g.centers.shape == (4,) and g.units
    np.testing.assert_array_equal(g.mask(2), (g.labels == 2).astype(np.float32))
    band = t.groupings.band(0.5, 0.2)
    assert len(band) == 1
    hz = trim.Transform("rfft1", (1, 64)).groupings.physical([0, 100, 200, 500], 1e-3, "Hz")
    assert len(hz) == 3 and hz.units == "Hz"
    # Frequency of rfft bin k is k / (64 ms): 100 Hz is bin 6.4.
    assert hz.labels[0, 6, 0] == 0 and hz.labels[0, 7, 0] == 1
    st = trim.Transform("stft:hann:16:4:center", (1, 64))
    assert st.coefficient_shape == (1, 9, 17, 2)
    np.testing.assert_allclose(st.inverse(st.forward(np.ones((2, 1, 64)))), np.ones((2, 1, 64)), atol=1e-5)
    hz = st.groupings.hz([0, 1000, 4000], 8000)
    assert hz.units == "Hz" and hz.labels[0, 1, 0, 0] == 0 and hz.labels[0, 2, 3, 1] == 1  # bins every 500 Hz
    assert len(st.groupings.mel(4, 8000, "htk")) == 4 and len(st.groupings.tiles(3, 2)) == 6
    assert st.groupings.segments(2, 8000).units == "s"
    assert trim.Transform("rfft2", (1, 8, 8)).groupings.ell([0, 2000, 8000], 2).units == "multipole l"
    with pytest.raises(ValueError, match="holds no coefficient"):
        st.groupings.hz([0, 5000, 8000], 8000)
    with pytest.raises(ValueError):
        trim.Transform("dwt2:haar:1", (1, 8, 8)).groupings.radial(3)
    with pytest.raises(IndexError):
        g.mask(4)


def test_errors():
    with pytest.raises(ValueError, match="fft4"):
        trim.Transform("fft4", (8, 8))
    with pytest.raises(ValueError, match="positive"):
        trim.Transform("fft2", (0, 8))
    with pytest.raises(TypeError):
        trim.Transform("fft2", "8,8")
    t = trim.Transform("fft2", (1, 8, 8))
    with pytest.raises(ValueError, match=r"does not end with"):
        t.forward(np.zeros((1, 8, 7), np.float32))
    with pytest.raises(OSError, match="nope.npy"):
        trim.Transform("nmf:nope.npy", (16,))
