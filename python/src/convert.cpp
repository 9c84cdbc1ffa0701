#include "convert.hpp"

#include <cmath>
#include <cstdint>

#include "trim/core/check.hpp"
#include "trim/core/error.hpp"

namespace trim::py {

namespace {

Shape shape_of(const pyb::array& a) {
  std::vector<int64_t> dims;
  for (pyb::ssize_t i = 0; i < a.ndim(); ++i) dims.push_back(static_cast<int64_t>(a.shape(i)));
  if (dims.size() > static_cast<size_t>(Shape::max_rank))
    throw ValueError("array of " + std::to_string(dims.size()) + " axes; trim takes at most " +
                     std::to_string(Shape::max_rank));
  return Shape(dims);
}

}  // namespace

Input to_tensor(pyb::handle obj, const std::string& what) {
  pyb::array a;
  if (pyb::isinstance<pyb::array>(obj)) {
    a = pyb::reinterpret_borrow<pyb::array>(obj);
  } else {
    try {
      a = pyb::reinterpret_steal<pyb::array>(
          pyb::detail::npy_api::get().PyArray_FromAny_(obj.ptr(), nullptr, 0, 0, 0, nullptr));
      if (!a) throw pyb::error_already_set();
    } catch (const pyb::error_already_set&) {
      throw pyb::type_error(what + ": expected an array of numbers, got " +
                            std::string(pyb::str(pyb::type::of(obj).attr("__name__"))));
    }
  }
  const char kind = a.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u')
    throw pyb::type_error(what + ": expected an array of real numbers, got dtype " +
                          std::string(pyb::str(a.dtype())));
  const Shape shape = shape_of(a);
  const bool f32 = a.dtype().is(pyb::dtype::of<float>());
  const bool contiguous = (a.flags() & pyb::array::c_style) != 0;
  const bool aligned = reinterpret_cast<std::uintptr_t>(a.data()) % Tensor::alignment == 0;
  Input in;
  if (f32 && contiguous && aligned && shape.numel() > 0) {
    in.keep = a;
    in.tensor = Tensor::borrow(static_cast<const float*>(a.data()), shape);
  } else {
    // One conversion, straight into trim's aligned storage.
    auto c = pyb::array_t<float, pyb::array::c_style | pyb::array::forcecast>::ensure(a);
    if (!c) throw pyb::error_already_set();
    in.tensor = Tensor(shape);
    std::copy(c.data(), c.data() + shape.numel(), in.tensor.data());
  }
  require_finite(in.tensor, what);
  return in;
}

void require_finite(const Tensor& t, const std::string& what) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t[i]))
      throw ValueError(what + ": element " + index_text(t.shape(), i) + " is " +
                       (std::isnan(t[i]) ? "NaN" : "infinite") + " (trim accepts finite values only)");
}

pyb::array to_array(Tensor t) {
  auto* owned = new Tensor(std::move(t));
  pyb::capsule base(owned, [](void* p) { delete static_cast<Tensor*>(p); });
  std::vector<pyb::ssize_t> shape, strides;
  for (int a = 0; a < owned->rank(); ++a) shape.push_back(static_cast<pyb::ssize_t>(owned->dim(a)));
  pyb::ssize_t stride = sizeof(float);
  strides.resize(shape.size());
  for (int a = owned->rank() - 1; a >= 0; --a) {
    strides[static_cast<size_t>(a)] = stride;
    stride *= shape[static_cast<size_t>(a)];
  }
  // An empty tensor has no storage; NumPy still wants a pointer.
  static float none = 0.0f;
  float* data = owned->numel() > 0 ? owned->data() : &none;
  return pyb::array(pyb::dtype::of<float>(), shape, strides, data, base);
}

pyb::array to_array_f64(const double* data, const std::vector<int64_t>& shape) {
  std::vector<pyb::ssize_t> s(shape.begin(), shape.end());
  pyb::array_t<double> a(s);
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::copy(data, data + n, a.mutable_data());
  return std::move(a);
}

pyb::array to_array_i32(const std::vector<int32_t>& data, const Shape& shape) {
  std::vector<pyb::ssize_t> s;
  for (int64_t d : shape) s.push_back(static_cast<pyb::ssize_t>(d));
  pyb::array_t<int32_t> a(s);
  std::copy(data.begin(), data.end(), a.mutable_data());
  return std::move(a);
}

Tensor as_batch(Tensor x, const Shape& example, const std::string& what) {
  const int r = example.rank();
  auto tail_is_example = [&] {
    for (int a = 0; a < r; ++a)
      if (x.dim(a + 1) != example[a]) return false;
    return true;
  };
  if (x.rank() == r && x.shape() == example) {
    Shape s{1};
    for (int64_t d : example) s.push_back(d);
    if (!x.owns_data()) return Tensor::borrow(x.data(), s);  // still no copy
    return std::move(x).reshape(s);
  }
  if (x.rank() == r + 1 && tail_is_example()) {
    if (x.dim(0) == 0) throw ValueError(what + " holds no examples (shape " + x.shape().str() + ")");
    return x;
  }
  const std::string ex = example.str();
  throw ShapeError(what + " has shape " + x.shape().str() + ", but the model takes examples of shape " + ex +
                   " (one example " + ex + " or a batch [N" + (r ? "," + ex.substr(1) : "]"));
}

Shape to_shape(pyb::handle obj, const std::string& what) {
  std::vector<int64_t> dims;
  if (pyb::isinstance<pyb::int_>(obj)) {
    dims.push_back(obj.cast<int64_t>());
  } else {
    if (!pyb::isinstance<pyb::sequence>(obj) || pyb::isinstance<pyb::str>(obj))
      throw pyb::type_error(what + ": expected a shape (a tuple of ints)");
    for (pyb::handle d : obj) {
      if (!pyb::isinstance<pyb::int_>(d) && !pyb::hasattr(d, "__index__"))
        throw pyb::type_error(what + ": expected a shape (a tuple of ints)");
      dims.push_back(pyb::int_(pyb::reinterpret_borrow<pyb::object>(d)).cast<int64_t>());
    }
  }
  for (int64_t d : dims)
    if (d < 1) throw ValueError(what + ": sizes must be positive, got " + Shape(dims).str());
  if (dims.size() > static_cast<size_t>(Shape::max_rank - 1))
    throw ValueError(what + ": at most " + std::to_string(Shape::max_rank - 1) + " axes");
  return Shape(dims);
}

pyb::tuple to_tuple(const Shape& s) {
  pyb::tuple t(static_cast<size_t>(s.rank()));
  for (int a = 0; a < s.rank(); ++a) t[static_cast<size_t>(a)] = pyb::int_(s[a]);
  return t;
}

ProgressCallback signal_progress() {
  return [](int64_t, int64_t) {
    pyb::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw pyb::error_already_set();
    return true;
  };
}

}  // namespace trim::py
