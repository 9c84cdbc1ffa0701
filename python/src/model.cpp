// trim.Model: an ONNX model, its shapes, predictions and a summary.
#include <cctype>
#include <map>

#include "bindings.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/kind.hpp"
#include "trim/io/onnx.hpp"

namespace trim::py {

namespace {

Shape drop_batch(const Shape& s) {
  Shape out;
  for (int a = 1; a < s.rank(); ++a) out.push_back(s[a]);
  return out;
}

PyModel wrap(Graph g, const std::string& name) {
  if (g.inputs().size() != 1 || g.outputs().size() != 1)
    throw ValueError("model '" + name + "' has " + std::to_string(g.inputs().size()) + " inputs and " +
                     std::to_string(g.outputs().size()) + " outputs; trim explains models with one of each");
  PyModel m;
  m.name = name;
  m.example_shape = drop_batch(g.shape(g.inputs()[0]));
  m.output_shape = drop_batch(g.shape(g.outputs()[0]));
  m.n_outputs = m.output_shape.numel();
  m.graph = std::make_shared<const Graph>(std::move(g));
  return m;
}

PyModel from_onnx(pyb::object source) {
  if (pyb::isinstance<pyb::bytes>(source) || pyb::isinstance<pyb::bytearray>(source) ||
      pyb::isinstance<pyb::memoryview>(source)) {
    const std::string bytes = pyb::bytes(pyb::module_::import("builtins").attr("bytes")(source));
    pyb::gil_scoped_release release;
    return wrap(io::load_onnx_bytes(bytes, "<bytes>"), "<bytes>");
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
  return wrap(io::load_onnx(path), path);
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
  const Graph& g = *m.graph;
  std::map<Kind, int> kinds;
  int nodes = 0;
  std::string opaque;
  for (NodeId id = 0; id < g.num_nodes(); ++id) {
    const Node& n = g.node(id);
    if (n.is_input) continue;
    ++nodes;
    ++kinds[n.op->kind()];
    if (n.op->kind() == Kind::Opaque && opaque.empty()) opaque = g.describe(id);
  }
  int64_t trainable = 0;
  for (const Parameter& p : g.parameters())
    if (p.trainable) trainable += p.value.numel();
  for (Kind k : {Kind::Linear, Kind::Elementwise, Kind::Selection, Kind::Structural, Kind::Sum, Kind::Product,
                 Kind::Opaque})
    kinds[k] += 0;  // every base kind listed, also with no node
  pyb::dict kinds_dict;
  for (const auto& [kind, count] : kinds) {
    std::string name = kind_name(kind);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    kinds_dict[pyb::str(name)] = count;
  }
  pyb::dict d;
  d["model"] = m.name;
  d["input_name"] = g.node(g.inputs()[0]).name;
  d["input_shape"] = to_tuple(m.example_shape);
  d["output_name"] = g.node(g.outputs()[0]).name;
  d["output_shape"] = to_tuple(m.output_shape);
  d["n_outputs"] = m.n_outputs;
  d["nodes"] = nodes;
  d["kinds"] = kinds_dict;
  d["parameter_tensors"] = g.parameters().size();
  d["trainable_values"] = trainable;
  d["cd_blocker"] = opaque.empty() ? pyb::object(pyb::none()) : pyb::object(pyb::str(opaque));
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
      .def("info", &info, R"(What trim needs to explain the model, as ``trim info`` prints it.

Returns
-------
dict
    ``model``, ``input_name``, ``input_shape``, ``output_name``,
    ``output_shape``, ``n_outputs``, ``nodes`` (count), ``kinds`` (nodes per
    kind: linear, elementwise, selection, structural, sum, opaque),
    ``parameter_tensors``, ``trainable_values`` and ``cd_blocker`` (the first
    opaque node, which contextual decomposition cannot pass, or None).)")
      .def("__repr__", [](const PyModel& p) {
        return "<trim.Model '" + p.name + "': input " + p.example_shape.str() + ", output " +
               p.output_shape.str() + ">";
      });
}

}  // namespace trim::py
