"""trim.Model: loading, shapes, predictions (PyTorch's and the CLI's), info, errors."""
import io
from pathlib import Path

import numpy as np
import pytest

import trim
from conftest import ONNX, assert_bit_equal, model_path, read_txt_tensors, rng_array


@pytest.mark.parametrize("name", ["lenet", "mlp", "convopts", "bnres"])
def test_predict_equals_pytorch(name):
    ref = read_txt_tensors(ONNX / f"{name}.txt")
    m = trim.Model.from_onnx(model_path(name))
    assert m.input_shape == tuple(ref["x"].shape[1:])
    assert m.output_shape == tuple(ref["y"].shape[1:])
    y = m.predict(ref["x"])
    assert y.dtype == np.float32 and y.shape == ref["y"].shape
    np.testing.assert_allclose(y, ref["y"], rtol=1e-4, atol=1e-5)


def test_from_bytes_pathlike_and_one_example(mlp):
    data = Path(model_path("mlp")).read_bytes()
    x = rng_array((3, 4, 5), 1)
    for source in (data, bytearray(data), memoryview(data), Path(model_path("mlp"))):
        assert_bit_equal(trim.Model.from_onnx(source).predict(x), mlp.predict(x))
    assert trim.Model.from_onnx(data).name == "<bytes>"
    # One example: the batch axis is added, as `trim predict`.
    assert_bit_equal(mlp.predict(x[1]), mlp.predict(x[1:2]))
    # Other dtypes and layouts are converted once, to the same values.
    assert_bit_equal(mlp.predict(x.astype(np.float64)), mlp.predict(x))
    assert_bit_equal(mlp.predict(np.asfortranarray(x)), mlp.predict(x))
    assert_bit_equal(mlp.predict(x.tolist()), mlp.predict(x))


def test_predict_equals_cli(tmp_path, cli, lenet):
    x = rng_array((5, 1, 16, 16), 2)
    np.save(tmp_path / "x.npy", x)
    cli("predict", model_path("lenet"), tmp_path / "x.npy", "-o", tmp_path / "y.npy")
    assert_bit_equal(lenet.predict(x), np.load(tmp_path / "y.npy"))


def test_info(lenet, mlp):
    i = lenet.info()
    assert i["input_shape"] == (1, 16, 16) and i["output_shape"] == (10,) and i["n_outputs"] == 10
    assert i["input_name"] == "x"
    assert "log_softmax" in i["cd_blocker"]
    assert sum(i["kinds"].values()) == i["nodes"] and i["kinds"]["opaque"] == 1
    assert mlp.info()["cd_blocker"] is None
    assert i["trainable_values"] > 0 and i["parameter_tensors"] > 0
    assert "lenet.onnx" in repr(lenet)


@pytest.mark.parametrize("name", ["lenet", "mlp", "bnres", "convopts"])
def test_info_equals_trim_info(cli, name):
    """One library summary for both: the text line for line, the dict's fields as printed."""
    m = trim.Model.from_onnx(model_path(name))
    text = cli("info", model_path(name)).stdout
    assert m.summary() == text
    i = m.info()
    assert f"input       '{i['input_name']}' [N,{','.join(map(str, i['input_shape']))}]" in text
    assert f"ONNX opset {i['opset']}, IR version {i['ir_version']}" in text
    kinds = ", ".join(f"{k.capitalize()} {v}" for k, v in i["kinds"].items())
    assert f"nodes       {i['nodes']}: {kinds}\n" in text
    assert f"parameters  {i['parameter_tensors']} tensors, {i['trainable_values']} trainable values" in text
    assert (i["cd_blocker"] is None) == ("all (no opaque node)" in text)
    # From bytes: the same summary but for the name.
    data = open(model_path(name), "rb").read()
    assert trim.Model.from_onnx(data).summary() == text.replace(model_path(name), "<bytes>")


def test_errors(tmp_path, mlp):
    with pytest.raises(OSError, match="missing.onnx"):
        trim.Model.from_onnx(str(tmp_path / "missing.onnx"))
    with pytest.raises(OSError, match="errors_unsupported"):
        trim.Model.from_onnx(model_path("errors_unsupported"))
    with pytest.raises(OSError):
        trim.Model.from_onnx(b"not an onnx model")
    with pytest.raises(TypeError):
        trim.Model.from_onnx(42)
    with pytest.raises(ValueError, match=r"shape \[3,5\].*\[4,5\]"):
        mlp.predict(np.zeros((3, 5), np.float32))
    bad = np.zeros((2, 4, 5), np.float32)
    bad[1, 2, 3] = np.nan
    with pytest.raises(ValueError, match=r"element \[1,2,3\] is NaN"):
        mlp.predict(bad)
    with pytest.raises(TypeError, match="dtype"):
        mlp.predict(np.array([["a"] * 5] * 4))
    with pytest.raises(TypeError, match="dtype"):
        mlp.predict(np.zeros((4, 5), np.complex64))


def test_token_model_is_read_as_the_cli_reads_it(cli):
    """Token ids cut at the embedding: the model is explained in the space of the embedded sequence."""
    path = str(ONNX.parent / "reach" / "tokens_op17.onnx")
    m = trim.Model.from_onnx(path)
    assert m.summary() == cli("info", path).stdout
    assert m.info()["tokens"] == [{"ids": "ids", "embedding": "emb.weight", "table_shape": (40, 8)}]
    assert m.input_shape == (12, 8)
