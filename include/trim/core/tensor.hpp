#pragma once
/// \file
/// `Tensor`: the one array type of trim.
///
/// Dynamic rank (0 to 8), contiguous row-major `float`, 64-byte aligned data,
/// value semantics: copying copies the data, moving is O(1). Kernels work on
/// raw pointers and shapes; `as_matrix()` / `as_vector()` give Eigen views for
/// linear algebra without copies.

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "trim/core/shape.hpp"

namespace trim {

using MatrixRM = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<MatrixRM, Eigen::Aligned64>;
using ConstMatrixMap = Eigen::Map<const MatrixRM, Eigen::Aligned64>;
using VectorMap = Eigen::Map<Eigen::VectorXf, Eigen::Aligned64>;
using ConstVectorMap = Eigen::Map<const Eigen::VectorXf, Eigen::Aligned64>;

class Tensor {
 public:
  /// Alignment of every tensor's data in bytes (one cache line, AVX-512 wide).
  static constexpr std::size_t alignment = 64;

  /// An empty rank-0 tensor holding no data (numel() == 0, not a scalar).
  Tensor() = default;
  /// Zero-filled tensor of a concrete shape (no free dimension).
  explicit Tensor(const Shape& shape);
  Tensor(const Shape& shape, float fill);
  /// Copies `values` (row-major); their count must equal the shape's size.
  Tensor(const Shape& shape, const std::vector<float>& values);

  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&& other) noexcept;
  Tensor& operator=(Tensor&& other) noexcept;
  ~Tensor() = default;

  static Tensor zeros(const Shape& shape) { return Tensor(shape); }
  static Tensor full(const Shape& shape, float v) { return Tensor(shape, v); }
  /// A rank-0 tensor holding one value.
  static Tensor scalar(float v);
  /// A tensor over memory it does not own, for handing a caller's array to
  /// the library without a copy (the Python module's NumPy input). `data`
  /// must be 64-byte aligned and outlive the tensor, and only be read
  /// through it; copies of it own their data, and `resize` or assignment
  /// to it allocates its own.
  static Tensor borrow(const float* data, const Shape& shape);
  /// False for a borrowed tensor.
  bool owns_data() const { return data_.get_deleter().owns; }

  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  int64_t dim(int axis) const { return shape_.dim(axis); }
  int64_t numel() const { return numel_; }
  /// Elements the allocation holds (≥ numel; kept by `resize` to a smaller shape).
  int64_t capacity() const { return capacity_; }
  bool empty() const { return numel_ == 0; }

  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  float* begin() { return data(); }
  float* end() { return data() + numel_; }
  const float* begin() const { return data(); }
  const float* end() const { return data() + numel_; }

  float& operator[](int64_t i) { return data_.get()[i]; }
  float operator[](int64_t i) const { return data_.get()[i]; }
  /// Element at a multi-index (bounds-checked; for tests and small code).
  float& at(std::initializer_list<int64_t> index);
  float at(std::initializer_list<int64_t> index) const;

  /// Changes the shape in place without touching the data; the element count
  /// must stay the same.
  Tensor& reshape(const Shape& shape) &;
  /// Moves the data into a tensor of another shape (no copy).
  Tensor reshape(const Shape& shape) &&;
  /// A copy with another shape.
  Tensor reshaped(const Shape& shape) const;

  /// Resizes to `shape`, keeping the allocation when it is large enough.
  /// Contents are unspecified afterwards (zeroed when `zero` is true).
  void resize(const Shape& shape, bool zero = false);

  void fill(float v);
  void set_zero() { fill(0.0f); }

  /// Row-major matrix view: rows = first dimension, columns = the rest
  /// (a rank-1 tensor is one row, a scalar 1×1).
  MatrixMap as_matrix();
  ConstMatrixMap as_matrix() const;
  /// Matrix view with explicit rows × cols (their product must be numel()).
  MatrixMap as_matrix(int64_t rows, int64_t cols);
  ConstMatrixMap as_matrix(int64_t rows, int64_t cols) const;
  VectorMap as_vector();
  ConstVectorMap as_vector() const;

  std::vector<float> to_vector() const { return {begin(), end()}; }

 private:
  struct AlignedFree {
    AlignedFree() noexcept : owns(true), bytes(0) {}
    explicit AlignedFree(bool owns_memory, std::size_t block_bytes = 0) noexcept
        : owns(owns_memory), bytes(block_bytes) {}
    bool owns;          ///< false: borrowed memory, not freed
    std::size_t bytes;  ///< the block's size, for the cache of large blocks (trim/core/memory.hpp)
    void operator()(float* p) const noexcept;
  };
  void allocate(int64_t n);
  int64_t flat_index(std::initializer_list<int64_t> index) const;

  Shape shape_;
  int64_t numel_ = 0;
  int64_t capacity_ = 0;
  std::unique_ptr<float[], AlignedFree> data_;
};

/// Throws ShapeError naming `what` unless `t` has exactly `expected`
/// (free dimensions in `expected` match anything).
void check_shape(const Tensor& t, const Shape& expected, const std::string& what);

/// Largest |a - b| over all elements; throws ShapeError when shapes differ.
float max_abs_diff(const Tensor& a, const Tensor& b);

}  // namespace trim
