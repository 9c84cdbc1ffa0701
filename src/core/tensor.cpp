#include "trim/core/tensor.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "block_cache.hpp"
#include "trim/core/error.hpp"

namespace trim {

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
  if (numel_) std::memcpy(data(), o.data(), static_cast<std::size_t>(numel_) * sizeof(float));
}

Tensor& Tensor::operator=(const Tensor& o) {
  if (this == &o) return *this;
  allocate(o.numel_);
  shape_ = o.shape_;
  numel_ = o.numel_;
  if (numel_) std::memcpy(data(), o.data(), static_cast<std::size_t>(numel_) * sizeof(float));
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

void Tensor::fill(float v) { std::fill(begin(), end(), v); }

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
