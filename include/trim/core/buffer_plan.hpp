#pragma once
/// \file
/// Sharing allocations between values whose lifetimes do not overlap.
///
/// A pass over a static graph knows in advance when each value becomes alive
/// and when it dies. Replaying those events on a `BufferPlan` gives every
/// value a slot; `SlotBuffers` then allocates each slot once, at the largest
/// size it serves, and keeps the allocations for the next pass. The pass holds
/// the values alive at one time instead of all of them, without the page
/// faults of freeing and allocating buffers as it goes.

#include <vector>

#include "trim/core/tensor.hpp"

namespace trim {

class BufferPlan {
 public:
  /// A value needing `numel` elements becomes alive; returns its slot: the
  /// smallest free slot that holds it, else the largest free slot (enlarged),
  /// else a new one.
  int open(int64_t numel);
  /// The value in `slot` is dead; the slot may serve a later value.
  void close(int slot);
  int slots() const { return static_cast<int>(size_.size()); }
  /// Elements slot `slot` must hold.
  int64_t size(int slot) const { return size_.at(static_cast<size_t>(slot)); }
  /// Elements of all slots together.
  int64_t total() const;

 private:
  std::vector<int64_t> size_;
  std::vector<char> busy_;
};

class SlotBuffers {
 public:
  /// Makes every slot of `plan` hold at least its size (larger allocations
  /// from an earlier plan are kept).
  void reserve(const BufferPlan& plan);
  /// The tensor of `slot` shaped `shape`, zeroed when `zero` (no allocation
  /// after `reserve` with the pass's plan).
  Tensor& use(int slot, const Shape& shape, bool zero = false);
  Tensor& operator[](int slot) { return slots_.at(static_cast<size_t>(slot)); }
  const Tensor& operator[](int slot) const { return slots_.at(static_cast<size_t>(slot)); }

 private:
  std::vector<Tensor> slots_;
};

}  // namespace trim
