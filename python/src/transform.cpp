// trim.Transform and trim.Grouping: coefficients s = T(x), back, and the
// natural groups of coefficients (radial / physical bands, sub-bands,
// components) as NumPy label arrays.
#include <cmath>
#include <limits>

#include "bindings.hpp"
#include "trim/core/error.hpp"
#include "trim/transforms/dictionary.hpp"
#include "trim/transforms/wavelet.hpp"

namespace trim::py {

namespace {

struct Groupings {
  std::shared_ptr<const Transform> t;
};

/// f applied to `a` [lead..., per...] as a batch: the leading axes (any
/// number, also none) are kept in front of the per-example result.
pyb::array per_example(pyb::handle obj, const Shape& per, const std::string& what, const std::string& shape_name,
                       const std::function<Tensor(const Tensor&)>& f) {
  Input in = to_tensor(obj, what);
  Tensor& a = in.tensor;
  const int lead_rank = a.rank() - per.rank();
  bool ok = lead_rank >= 0;
  for (int i = 0; ok && i < per.rank(); ++i) ok = a.dim(lead_rank + i) == per[i];
  if (!ok)
    throw ShapeError(what + " has shape " + a.shape().str() + ", which does not end with the " + shape_name + " " +
                     per.str());
  Shape lead;
  for (int i = 0; i < lead_rank; ++i) lead.push_back(a.dim(i));
  const Shape batch_shape = prepend({lead.numel()}, per);
  const Tensor batch = a.owns_data() ? std::move(a).reshape(batch_shape) : Tensor::borrow(a.data(), batch_shape);
  Tensor y;
  {
    pyb::gil_scoped_release release;
    y = f(batch);
  }
  Shape out = lead;
  for (int i = 1; i < y.rank(); ++i) out.push_back(y.dim(i));
  return to_array(std::move(y).reshape(out));
}

Grouping mask_grouping(pyb::handle obj, const Transform& t) {
  auto mask = pyb::array_t<double, pyb::array::c_style | pyb::array::forcecast>::ensure(obj);
  if (!mask) throw pyb::type_error("groups: expected a trim.Grouping, a string such as 'radial:8', or integer labels");
  std::vector<int64_t> dims;
  for (pyb::ssize_t i = 0; i < mask.ndim(); ++i) dims.push_back(mask.shape(i));
  return mask_groups(t, Shape(dims), std::vector<double>(mask.data(), mask.data() + mask.size()), "groups");
}

Grouping parse_groups(const std::string& text, const Transform& t) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i)
    if (i == text.size() || text[i] == ':') parts.push_back(text.substr(start, i - start)), start = i + 1;
  const std::string& kind = parts[0];
  const std::string bad = "groups '" + text + "': ";
  auto number = [&](const std::string& s) {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != s.size() || s.empty() || !std::isfinite(v)) throw ValueError(bad + "'" + s + "' is not a number");
    return v;
  };
  try {
    if (kind == "radial" && parts.size() == 2) {
      const double n = number(parts[1]);
      if (n != std::floor(n) || n < 1 || n > 100000)
        throw ValueError(bad + "expected radial:N with N bands, 1 <= N <= 100000");
      return radial_bands(t, static_cast<int>(n));
    }
    if (kind == "band" && parts.size() == 3) {
      const double c = number(parts[1]), w = number(parts[2]);
      if (!(w > 0)) throw ValueError(bad + "expected band:CENTER:WIDTH with WIDTH > 0 (the full width)");
      return radial_band(t, c, w);
    }
    if (parts.size() == 1 && kind == "subbands") return wavelet_subbands(t);
    if (parts.size() == 1 && kind == "levels") return wavelet_levels(t);
    if (parts.size() == 1 && kind == "components") return component_groups(t);
  } catch (const ValueError& e) {
    const std::string m = e.what();
    if (m.rfind(bad, 0) == 0) throw;
    throw ValueError(bad + m);
  }
  throw ValueError(bad + "unknown grouping (expected radial:N, band:CENTER:WIDTH, subbands, levels or components)");
}

pyb::array labels_of(const Grouping& g) { return to_array_i32(g.labels, g.coefficient_shape); }

}  // namespace

bool is_fourier(const std::string& spec) {
  const TransformFamily* family = find_transform_family(spec);
  return family &&
         (family->layout == CoefficientLayout::Spectrum || family->layout == CoefficientLayout::HalfSpectrum);
}

std::shared_ptr<const Transform> to_transform(pyb::handle obj, const Shape& example) {
  if (pyb::isinstance<PyTransform>(obj)) {
    auto t = obj.cast<const PyTransform&>().t;
    if (t->input_shape() != example)
      throw ShapeError("transform '" + t->spec() + "' is for examples of shape " + t->input_shape().str() +
                       ", the model takes " + example.str());
    return t;
  }
  if (pyb::isinstance<pyb::str>(obj)) return make_transform(obj.cast<std::string>(), example);
  throw pyb::type_error("transform: expected a spec string such as 'fft2' or a trim.Transform");
}

Grouping to_grouping(pyb::handle obj, const Transform& t) {
  if (pyb::isinstance<Grouping>(obj)) {
    const Grouping& g = obj.cast<const Grouping&>();
    if (g.coefficient_shape != t.coefficient_shape())
      throw ShapeError("groups: the grouping is for coefficients " + g.coefficient_shape.str() + ", '" + t.spec() +
                       "' has " + t.coefficient_shape().str());
    return g;
  }
  if (pyb::isinstance<pyb::str>(obj)) return parse_groups(obj.cast<std::string>(), t);
  return mask_grouping(obj, t);
}

void register_transform(pyb::module_& m) {
  pyb::class_<Grouping>(m, "Grouping", R"(Groups of transform coefficients: an integer label per coefficient.

``labels`` has the coefficient shape of one example (label -1: in no group);
the real and imaginary parts of a complex coefficient share their label. Get one
from ``Transform.groupings`` or pass a string / label array as ``groups=``.)")
      .def_property_readonly("labels", &labels_of, "int32 labels, the coefficient shape of one example (-1: none).")
      .def_property_readonly("names", [](const Grouping& g) { return g.names; }, "One name per group.")
      .def_property_readonly("centers", [](const Grouping& g) {
            return to_array_f64(g.centers.data(), {static_cast<int64_t>(g.centers.size())});
          }, "One position per group in ``units`` (band centres, for plots).")
      .def_property_readonly("units", [](const Grouping& g) { return g.units; },
                             "Units of ``centers``, e.g. 'normalised radius', 'Hz', 'multipole l'.")
      .def("mask", [](const Grouping& g, int k) {
            if (k < 0 || k >= g.size())
              throw pyb::index_error("group " + std::to_string(k) + " out of range (" + std::to_string(g.size()) +
                                     " groups)");
            return to_array(g.mask(k));
          }, pyb::arg("group"), "float32 mask of one group: 1 where the label is ``group``, else 0.")
      .def("__len__", &Grouping::size, "Number of groups.")
      .def("__repr__", [](const Grouping& g) {
        return "<trim.Grouping: " + std::to_string(g.size()) + " groups over coefficients " +
               g.coefficient_shape.str() + (g.units.empty() ? "" : ", " + g.units) + ">";
      });

  pyb::class_<Groupings>(m, "Groupings", "The natural groupings of a transform's coefficients (``Transform.groupings``).")
      .def("radial", [](const Groupings& g, int n) { return radial_bands(*g.t, n); }, pyb::arg("n_bands"),
           R"(``n_bands`` equal bands of the normalised frequency radius (fft/rfft transforms).

NumPy's fftfreq divided by its largest magnitude per axis, so 1 is the Nyquist
frequency along an axis; bands cover [0, sqrt(2)] in 2-D, [0, 1] in 1-D.)")
      .def("band", [](const Groupings& g, double c, double w) { return radial_band(*g.t, c, w); },
           pyb::arg("center"), pyb::arg("width"),
           "One radial band [center - width/2, center + width/2) (label 0); ``width`` is the full width.")
      .def("physical", [](const Groupings& g, std::vector<double> edges, double spacing, const std::string& units) {
            return physical_bands(*g.t, edges, spacing, units);
          }, pyb::arg("edges"), pyb::arg("spacing"), pyb::arg("units") = "Hz",
           R"(Bands with edges in physical units (fft/rfft transforms).

``spacing`` is the sample spacing (seconds, or arcmin per pixel);
frequencies are cycles per unit (numpy.fft.fftfreq(n, spacing)). With
``units='multipole l'`` the radius is the multipole l = 2 pi f, f in cycles
per radian (spacing in arcmin). ``edges`` ascending.)")
      .def("subbands", [](const Groupings& g) { return wavelet_subbands(*g.t); },
           "Wavelet sub-bands (cA_n, cH_n, cV_n, cD_n, ..., cD_1 for dwt2).")
      .def("levels", [](const Groupings& g) { return wavelet_levels(*g.t); }, "Wavelet levels (all sub-bands of a level).")
      .def("components", [](const Groupings& g) { return component_groups(*g.t); },
           "One group per dictionary component (nmf, pca, dict).");

  pyb::class_<PyTransform>(m, "Transform", R"(The transform T of TRIM, made for one example's shape.

Parameters
----------
spec : str
    identity, fft1, fft2, rfft1, rfft2, dct1, dct2 (each optionally
    ``:backward``, ``:ortho`` or ``:forward``, NumPy's ``norm``),
    ``dwt1|dwt2:WAVELET[:LEVEL[:MODE]]`` (PyWavelets' names, e.g.
    ``dwt2:db4:3:symmetric``), ``swt1|swt2:WAVELET[:LEVEL]``,
    ``nmf:DICT.npy``, ``pca:DICT.npy``, ``dict:DICT.npy``.
shape : tuple of int
    Shape of one example, without a batch axis (e.g. ``(1, 64, 64)``).

The transform acts on the trailing axes and keeps the leading ones, as
numpy.fft / pywt do. Complex coefficients get a trailing axis of 2
(re, im).)")
      .def(pyb::init([](const std::string& spec, pyb::handle shape) {
             return PyTransform{make_transform(spec, to_shape(shape, "shape"))};
           }),
           pyb::arg("spec"), pyb::arg("shape"))
      .def_property_readonly("spec", [](const PyTransform& p) { return p.t->spec(); }, "The spec string.")
      .def_property_readonly("input_shape", [](const PyTransform& p) { return to_tuple(p.t->input_shape()); },
                             "Shape of one example.")
      .def_property_readonly("coefficient_shape",
                             [](const PyTransform& p) { return to_tuple(p.t->coefficient_shape()); },
                             "Shape of one example's coefficients.")
      .def_property_readonly("exact", [](const PyTransform& p) { return p.t->exact(); },
                             "True when inverse(forward(x)) == x up to rounding (else TRIM adds the residual).")
      .def("forward", [](const PyTransform& p, pyb::handle x) {
            return per_example(x, p.t->input_shape(), "x", "example shape", [&](const Tensor& b) {
              return p.t->forward(b);
            });
          }, pyb::arg("x"), R"(Coefficients s = T(x).

``x`` has shape ``(..., *input_shape)``: any leading axes (none, a batch, ...)
are kept. Returns float32 ``(..., *coefficient_shape)``, as ``trim transform``.)")
      .def("inverse", [](const PyTransform& p, pyb::handle s) {
            const std::string what = "coefficient shape of '" + p.t->spec() + "' for signals " +
                                     p.t->input_shape().str() + ",";
            return per_example(s, p.t->coefficient_shape(), "s", what, [&](const Tensor& b) {
              return p.t->inverse(b);
            });
          }, pyb::arg("s"), R"(Signals x = T^-1(s) from coefficients ``(..., *coefficient_shape)``.

For fft1/fft2 (the full spectrum of a real signal) the real part of the
complex inverse, as ``trim inverse``.)")
      .def_property_readonly("groupings", [](const PyTransform& p) { return Groupings{p.t}; },
                             R"(The natural groupings: ``.radial(n)``, ``.band(c, w)``,
``.physical(edges, spacing, units)`` (Hz, multipole l), ``.subbands()``,
``.levels()``, ``.components()``; each a trim.Grouping whose ``labels`` is a
NumPy array.)")
      .def("__repr__", [](const PyTransform& p) {
        return "<trim.Transform '" + p.t->spec() + "': " + p.t->input_shape().str() + " -> " +
               p.t->coefficient_shape().str() + ">";
      });
}

}  // namespace trim::py
