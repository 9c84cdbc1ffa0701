#pragma once
/// \file
/// `Shape`: the dimensions of a tensor, rank 0 to `Shape::max_rank`.

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace trim {

/// Dimensions of a row-major tensor. A dimension may be `Shape::free` (-1) in
/// graph shapes, where it stands for the batch size that is only known when
/// the graph runs; concrete tensors never hold free dimensions.
class Shape {
 public:
  static constexpr int max_rank = 8;
  static constexpr int64_t free = -1;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);

  int rank() const { return rank_; }
  int64_t operator[](int axis) const { return dims_[static_cast<size_t>(axis)]; }
  int64_t& operator[](int axis) { return dims_[static_cast<size_t>(axis)]; }
  /// Dimension with Python-style negative axes (-1 is the last); throws
  /// ShapeError when the axis is out of range.
  int64_t dim(int axis) const;
  /// Normalises a possibly negative axis to [0, rank); throws ShapeError.
  int axis(int axis) const;

  /// Product of all dimensions (1 for rank 0). Throws when a dimension is free.
  int64_t numel() const;
  /// Product of dimensions [begin, end).
  int64_t numel(int begin, int end) const;
  bool has_free_dim() const;

  /// The same shape with every free dimension replaced by `batch`.
  Shape with_batch(int64_t batch) const;

  std::vector<int64_t> to_vector() const;
  const int64_t* begin() const { return dims_.data(); }
  const int64_t* end() const { return dims_.data() + rank_; }

  void push_back(int64_t d);

  /// `[32,100]`; free dimensions print as `*`.
  std::string str() const;

  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }

 private:
  std::array<int64_t, max_rank> dims_{};
  int rank_ = 0;
};

/// `lead` followed by the dimensions of `rest`: `prepend({T, N}, example)` is
/// `[T, N, example...]`, `prepend({Shape::free}, per_example)` a graph input with
/// a free batch axis. The one helper for adding leading (batch, target) axes.
Shape prepend(std::initializer_list<int64_t> lead, const Shape& rest);

/// `s` with its leading (batch) dimension replaced by `rows`.
Shape with_rows(const Shape& s, int64_t rows);

/// Row-major strides (in elements) of a shape.
std::vector<int64_t> row_major_strides(const Shape& s);

}  // namespace trim
