// trim.Model: an ONNX model, its shapes, predictions and a summary.
#include <cctype>
#include <map>

#include "bindings.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/kind.hpp"
#include "trim/io/onnx.hpp"

namespace trim::py {

namespace {

/// The model as the CLI's load_model reads it (token-id inputs cut at their
/// embedding), with the summary `trim info` prints.
PyModel wrap(const std::string& name, const std::string* bytes, const std::string* path) {
  std::vector<io::OnnxTokenInput> tokens;
  io::OnnxImportOptions options;
  options.token_inputs = &tokens;
  Graph g = bytes ? io::load_onnx_bytes(*bytes, name, options) : io::load_onnx(*path, options);
  const io::OnnxModelInfo file = bytes ? io::read_onnx_info_bytes(*bytes, name) : io::read_onnx_info(*path);
  PyModel m;
  m.summary = io::summarize_model(name, g, file, tokens);
  m.name = name;
  m.example_shape = m.summary.example_shape;
  m.output_shape = m.summary.output_shape;
  m.n_outputs = m.summary.n_outputs;
  m.graph = std::make_shared<const Graph>(std::move(g));
  return m;
}

PyModel from_onnx(pyb::object source) {
  if (pyb::isinstance<pyb::bytes>(source) || pyb::isinstance<pyb::bytearray>(source) ||
      pyb::isinstance<pyb::memoryview>(source)) {
    const std::string bytes = pyb::bytes(pyb::module_::import("builtins").attr("bytes")(source));
    pyb::gil_scoped_release release;
    return wrap("<bytes>", &bytes, nullptr);
  }
  pyb::object fspath = pyb::module_::import("os").attr("fspath");
  std::string path;
  try {
    path = fspath(source).cast<std::string>();
  } catch (const pyb::error_already_set&) {
    throw pyb::type_error("Model.from_onnx: expected a path (str or os.PathLike) or the model's bytes, got " +
                          std::string(pyb::str(pyb::type::of(source).attr("__name__"))));
  } catch (const pyb::cast_error&) {
    throw pyb::type_error("Model.from_onnx: expected a path (str or os.PathLike) or the model's bytes");
  }
  pyb::gil_scoped_release release;
  return wrap(path, nullptr, &path);
}

pyb::array predict(const PyModel& m, pyb::handle x_obj) {
  Input in = to_tensor(x_obj, "x");
  Tensor x = as_batch(std::move(in.tensor), m.example_shape, "x");
  Tensor y;
  {
    pyb::gil_scoped_release release;
    y = m.graph->evaluate(x);
  }
  require_finite(y, "the outputs of model '" + m.name + "' (the model overflows for this input)");
  return to_array(std::move(y));
}

pyb::dict info(const PyModel& m) {
  const io::ModelSummary& sm = m.summary;
  pyb::dict kinds;
  for (const auto& [kind, count] : sm.kinds) {
    std::string name = kind_name(kind);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    kinds[pyb::str(name)] = count;
  }
  pyb::list tokens;
  for (const io::ModelSummary::Tokens& t : sm.tokens) {
    pyb::dict d;
    d["ids"] = t.ids;
    d["embedding"] = t.embedding;
    d["table_shape"] = to_tuple(t.table_shape);
    tokens.append(d);
  }
  pyb::dict d;
  d["model"] = sm.model;
  d["opset"] = sm.file.opset;
  d["ir_version"] = sm.file.ir_version;
  d["producer"] = sm.file.producer;
  d["graph_name"] = sm.file.graph_name;
  d["input_name"] = sm.input_name;
  d["input_shape"] = to_tuple(sm.example_shape);
  d["output_name"] = sm.output_name;
  d["output_shape"] = to_tuple(sm.output_shape);
  d["n_outputs"] = sm.n_outputs;
  d["tokens"] = tokens;
  d["nodes"] = sm.nodes;
  d["kinds"] = kinds;
  d["parameter_tensors"] = sm.parameter_tensors;
  d["trainable_values"] = sm.trainable_values;
  d["batchnorm_nodes"] = sm.batchnorm_nodes;
  d["conv_nodes"] = sm.conv_nodes;
  d["cd_blocker"] = sm.cd_blocker.empty() ? pyb::object(pyb::none()) : pyb::object(pyb::str(sm.cd_blocker));
  return d;
}

}  // namespace

void register_model(pyb::module_& m) {
  pyb::class_<PyModel>(m, "Model", R"(A trained model: an ONNX file read into trim's graph.

Create one with ``Model.from_onnx(path_or_bytes)``. The model must have one input
and one output; the first axis of both is the batch. Models are immutable and
may be used from several threads at once.)")
      .def_static("from_onnx", &from_onnx, pyb::arg("source"), R"(Read an ONNX model (opsets 11-17).

Parameters
----------
source : str, os.PathLike or bytes
    The ``.onnx`` file, or the serialized model (e.g.
    ``onnx_model.SerializeToString()`` or ``torch.onnx.export`` into a
    ``BytesIO``).

Raises
------
OSError
    The file cannot be read, is not ONNX, or uses an unsupported operator.
ValueError
    A node's attribute or shape is not supported, or the model has more
    than one input or output.)")
      .def_property_readonly("input_shape", [](const PyModel& p) { return to_tuple(p.example_shape); },
                             "Shape of one input example (without the batch axis).")
      .def_property_readonly("output_shape", [](const PyModel& p) { return to_tuple(p.output_shape); },
                             "Shape of one example's output (without the batch axis).")
      .def_property_readonly("n_outputs", [](const PyModel& p) { return p.n_outputs; },
                             "Output values per example: the indices ``target`` takes.")
      .def_property_readonly("name", [](const PyModel& p) { return p.name; },
                             "The file the model was read from, or '<bytes>'.")
      .def("predict", &predict, pyb::arg("x"), R"(Run the model.

Parameters
----------
x : array_like
    One example of shape ``input_shape`` or a batch ``(N, *input_shape)``.
    A float32 C-contiguous array aligned to 64 bytes is used without a copy;
    anything else is converted once.

Returns
-------
numpy.ndarray
    float32 ``(N, *output_shape)``, always with the batch axis (as
    ``trim predict``).)")
      .def("info", &info, R"(What trim needs to explain the model: the fields ``trim info`` prints.

Returns
-------
dict
    ``model``; the file's ``opset``, ``ir_version``, ``producer``,
    ``graph_name``; ``input_name`` and ``output_name`` (as the exporter
    named them), ``input_shape``, ``output_shape``, ``n_outputs``;
    ``tokens`` (token-id inputs explained in the space of their embedding:
    ``ids``, ``embedding``, ``table_shape``); ``nodes`` (count), ``kinds``
    (nodes per kind: linear, elementwise, selection, structural, sum,
    product, opaque), ``parameter_tensors``, ``trainable_values``;
    ``batchnorm_nodes`` and ``conv_nodes`` in the file (no BatchNorm but
    convolutions: it was probably folded into them, and CD splits its shift
    as part of the conv bias); ``cd_blocker`` (the first opaque node, which
    contextual decomposition cannot pass, or None).

See also ``summary()``, the same as text.)")
      .def("summary", [](const PyModel& p) { return io::model_summary_text(p.summary); },
           R"(The text ``trim info MODEL.onnx`` prints for this model, line for line.)")
      .def("__repr__", [](const PyModel& p) {
        return "<trim.Model '" + p.name + "': input " + p.example_shape.str() + ", output " +
               p.output_shape.str() + ">";
      });
}

}  // namespace trim::py
