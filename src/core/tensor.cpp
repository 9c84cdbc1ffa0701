#include "trim/core/tensor.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>

#include "block_cache.hpp"
#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"

namespace trim {

namespace {

/// Tensors of at least this many floats (4 MiB) are copied and filled on the
/// pool: an attribution batch's input or input gradient (40 rows at 128²:
/// 7.5 MiB) was copied on one thread while the other waited, 2 % of a
/// 2-thread ResNet-50 SmoothGrad.
constexpr int64_t kParallelFloats = int64_t{1} << 20;

/// Runs body(begin, end) over [0, n), in parts on the pool when n is large.
void over_floats(int64_t n, const std::function<void(int64_t, int64_t)>& body) {
  if (n < kParallelFloats) body(0, n);
  else parallel_for(n, body);
}

void copy_floats(float* dst, const float* src, int64_t n) {
  if (n == 0) return;  // an empty tensor's pointers may be null
  over_floats(n, [&](int64_t b, int64_t e) {
    std::memcpy(dst + b, src + b, static_cast<std::size_t>(e - b) * sizeof(float));
  });
}

}  // namespace

void Tensor::AlignedFree::operator()(float* p) const noexcept {
  if (owns && p) detail::give_block(p, bytes);
}

void Tensor::allocate(int64_t n) {
  if (n <= capacity_) return;
  // aligned_alloc needs a size that is a multiple of the alignment.
  const std::size_t bytes = static_cast<std::size_t>(n) * sizeof(float);
  std::size_t rounded = (bytes + alignment - 1) / alignment * alignment;
  void* p = detail::take_block(rounded, alignment);  // may raise `rounded` to a cached block's size
  data_ = std::unique_ptr<float[], AlignedFree>(static_cast<float*>(p), AlignedFree{true, rounded});
  capacity_ = static_cast<int64_t>(rounded / sizeof(float));
}

Tensor::Tensor(const Shape& shape) : Tensor(shape, 0.0f) {}

Tensor::Tensor(const Shape& shape, float fill_value) : shape_(shape) {
  if (shape.has_free_dim())
    throw ShapeError("tensor: cannot allocate shape " + shape.str() + " with a free dimension");
  numel_ = shape.numel();
  allocate(numel_);
  fill(fill_value);
}

Tensor::Tensor(const Shape& shape, const std::vector<float>& values) : Tensor(shape) {
  if (static_cast<int64_t>(values.size()) != numel_)
    throw ShapeError("tensor: " + std::to_string(values.size()) + " values given for shape " +
                     shape.str() + " (" + std::to_string(numel_) + " elements)");
  std::copy(values.begin(), values.end(), data());
}

Tensor Tensor::scalar(float v) { return Tensor(Shape{}, v); }

Tensor Tensor::borrow(const float* data, const Shape& shape) {
  if (shape.has_free_dim()) throw ShapeError("tensor: cannot borrow shape " + shape.str() + " with a free dimension");
  if (reinterpret_cast<std::uintptr_t>(data) % alignment != 0)
    throw ValueError("tensor: borrowed data must be " + std::to_string(alignment) + "-byte aligned");
  Tensor t;
  t.shape_ = shape;
  t.numel_ = shape.numel();
  // capacity 0: the memory is not the tensor's to write, so any resize allocates.
  t.data_ = std::unique_ptr<float[], AlignedFree>(const_cast<float*>(data), AlignedFree{false});
  return t;
}

Tensor::Tensor(const Tensor& o) : shape_(o.shape_), numel_(o.numel_) {
  allocate(numel_);
  copy_floats(data(), o.data(), numel_);
}

Tensor& Tensor::operator=(const Tensor& o) {
  if (this == &o) return *this;
  allocate(o.numel_);
  shape_ = o.shape_;
  numel_ = o.numel_;
  copy_floats(data(), o.data(), numel_);
  return *this;
}

Tensor::Tensor(Tensor&& o) noexcept
    : shape_(o.shape_), numel_(o.numel_), capacity_(o.capacity_), data_(std::move(o.data_)) {
  o.shape_ = Shape{};
  o.numel_ = 0;
  o.capacity_ = 0;
}

Tensor& Tensor::operator=(Tensor&& o) noexcept {
  if (this == &o) return *this;
  shape_ = o.shape_;
  numel_ = o.numel_;
  capacity_ = o.capacity_;
  data_ = std::move(o.data_);
  o.shape_ = Shape{};
  o.numel_ = 0;
  o.capacity_ = 0;
  return *this;
}

int64_t Tensor::flat_index(std::initializer_list<int64_t> index) const {
  if (static_cast<int>(index.size()) != rank())
    throw ShapeError("tensor " + shape_.str() + ": index of rank " + std::to_string(index.size()));
  int64_t flat = 0;
  int axis = 0;
  for (int64_t i : index) {
    if (i < 0 || i >= shape_[axis])
      throw ShapeError("tensor " + shape_.str() + ": index " + std::to_string(i) +
                       " out of range on axis " + std::to_string(axis));
    flat = flat * shape_[axis] + i;
    ++axis;
  }
  return flat;
}

float& Tensor::at(std::initializer_list<int64_t> index) { return data()[flat_index(index)]; }
float Tensor::at(std::initializer_list<int64_t> index) const { return data()[flat_index(index)]; }

Tensor& Tensor::reshape(const Shape& shape) & {
  if (shape.has_free_dim() || shape.numel() != numel_)
    throw ShapeError("tensor: cannot reshape " + shape_.str() + " to " + shape.str());
  shape_ = shape;
  return *this;
}

Tensor Tensor::reshape(const Shape& shape) && {
  reshape(shape);
  return std::move(*this);
}

Tensor Tensor::reshaped(const Shape& shape) const {
  Tensor copy = *this;
  copy.reshape(shape);
  return copy;
}

void Tensor::resize(const Shape& shape, bool zero) {
  if (shape.has_free_dim())
    throw ShapeError("tensor: cannot allocate shape " + shape.str() + " with a free dimension");
  allocate(shape.numel());
  shape_ = shape;
  numel_ = shape.numel();
  if (zero) set_zero();
}

void Tensor::fill(float v) {
  float* d = data();
  over_floats(numel_, [&](int64_t b, int64_t e) { std::fill(d + b, d + e, v); });
}

namespace {
int64_t leading(const Shape& s) { return s.rank() == 0 ? 1 : (s.rank() == 1 ? 1 : s[0]); }
}  // namespace

MatrixMap Tensor::as_matrix() {
  const int64_t r = leading(shape_);
  return as_matrix(r, r == 0 ? 0 : numel_ / r);
}
ConstMatrixMap Tensor::as_matrix() const {
  const int64_t r = leading(shape_);
  return as_matrix(r, r == 0 ? 0 : numel_ / r);
}
MatrixMap Tensor::as_matrix(int64_t rows, int64_t cols) {
  if (rows * cols != numel_)
    throw ShapeError("tensor " + shape_.str() + ": cannot view as " + std::to_string(rows) + "x" +
                     std::to_string(cols) + " matrix");
  return MatrixMap(data(), rows, cols);
}
ConstMatrixMap Tensor::as_matrix(int64_t rows, int64_t cols) const {
  if (rows * cols != numel_)
    throw ShapeError("tensor " + shape_.str() + ": cannot view as " + std::to_string(rows) + "x" +
                     std::to_string(cols) + " matrix");
  return ConstMatrixMap(data(), rows, cols);
}
VectorMap Tensor::as_vector() { return VectorMap(data(), numel_); }
ConstVectorMap Tensor::as_vector() const { return ConstVectorMap(data(), numel_); }

void check_shape(const Tensor& t, const Shape& expected, const std::string& what) {
  bool ok = t.rank() == expected.rank();
  for (int i = 0; ok && i < expected.rank(); ++i)
    ok = expected[i] == Shape::free || expected[i] == t.shape()[i];
  if (!ok)
    throw ShapeError(what + ": shape " + t.shape().str() + ", expected " + expected.str());
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape())
    throw ShapeError("max_abs_diff: shapes " + a.shape().str() + " and " + b.shape().str() +
                     " differ");
  float m = 0.0f;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

}  // namespace trim
