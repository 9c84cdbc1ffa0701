// The Python module `trim`: thin bindings over the C++ library, NumPy in and
// out. Errors keep trim's messages: ValueError (and ShapeError) ->
// ValueError, IoError -> OSError, other trim errors -> RuntimeError.
#include "bindings.hpp"
#include "trim/core/error.hpp"

namespace trim::py {
namespace {

pyb::array empty(pyb::handle shape) { return to_array(Tensor(to_shape(shape, "shape"))); }

pyb::array asarray(pyb::handle x) {
  Input in = to_tensor(x, "x");
  if (!in.tensor.owns_data()) return pyb::reinterpret_borrow<pyb::array>(in.keep);
  return to_array(std::move(in.tensor));
}

}  // namespace
}  // namespace trim::py

PYBIND11_MODULE(trim, m) {
  using namespace trim::py;
  m.doc() = R"(trim: explain neural networks in a transformed feature space (TRIM).

Attributes a model's prediction f(x) to the coefficients s = T(x) of a
transform T (Fourier frequencies and radial bands, wavelet sub-bands, NMF
components) by explaining f(T^-1(s) + r). The C++ library, from NumPy:

    import numpy as np, trim
    model = trim.Model.from_onnx("cnn.onnx")
    r = trim.attribute(model, maps, transform="fft2", method="integrated_gradients",
                       groups="radial:12", target=0)
    r.group_scores          # (targets, N, 12)

Model, Transform, Grouping, attribute, sweep, evaluate, NMF; see help() of each and
docs/python.md. float32 C-contiguous arrays aligned to 64 bytes (every array
trim returns, and trim.empty / trim.asarray) are read without a copy; other
arrays are converted once. Long calls release the GIL and stop on Ctrl-C.)";
  m.attr("__version__") = "0.1.0";

  pybind11::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const trim::IoError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const trim::ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const trim::ShapeError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const trim::Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });

  register_model(m);
  register_transform(m);
  register_attribute(m);
  register_nmf(m);
  register_evaluate(m);

  m.def("empty", &empty, pybind11::arg("shape"),
        R"(A zero-filled float32 array of ``shape`` in trim's own 64-byte-aligned
memory, which every trim function reads without a copy.)");
  m.def("asarray", &asarray, pybind11::arg("x"),
        R"(``x`` as a float32 C-contiguous array trim reads without a copy: ``x`` itself
when it already is one (64-byte aligned), else one converted copy.)");
}
