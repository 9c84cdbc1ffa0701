#include "trim/core/buffer_plan.hpp"

#include <algorithm>
#include <numeric>

#include "trim/core/error.hpp"

namespace trim {

int BufferPlan::open(int64_t numel) {
  int best = -1;
  for (int k = 0; k < slots(); ++k) {
    if (busy_[static_cast<size_t>(k)]) continue;
    if (best < 0) {
      best = k;
      continue;
    }
    const int64_t c = size_[static_cast<size_t>(k)], b = size_[static_cast<size_t>(best)];
    const bool fits = c >= numel, best_fits = b >= numel;
    if ((fits && (!best_fits || c < b)) || (!fits && !best_fits && c > b)) best = k;
  }
  if (best < 0) {
    size_.push_back(numel);
    busy_.push_back(1);
    return slots() - 1;
  }
  size_[static_cast<size_t>(best)] = std::max(size_[static_cast<size_t>(best)], numel);
  busy_[static_cast<size_t>(best)] = 1;
  return best;
}

void BufferPlan::close(int slot) {
  if (slot < 0 || slot >= slots() || !busy_[static_cast<size_t>(slot)])
    throw Error("buffer plan: slot " + std::to_string(slot) + " closed but not open");
  busy_[static_cast<size_t>(slot)] = 0;
}

int64_t BufferPlan::total() const { return std::accumulate(size_.begin(), size_.end(), int64_t{0}); }

void SlotBuffers::reserve(const BufferPlan& plan) {
  if (static_cast<int>(slots_.size()) < plan.slots()) slots_.resize(static_cast<size_t>(plan.slots()));
  for (int k = 0; k < plan.slots(); ++k) {
    Tensor& t = slots_[static_cast<size_t>(k)];
    if (t.capacity() < plan.size(k)) t.resize(Shape{plan.size(k)});
  }
}

Tensor& SlotBuffers::use(int slot, const Shape& shape, bool zero) {
  // resize grows the allocation if an op replaced the slot's tensor with a
  // smaller one: correct, only less frugal than planned.
  Tensor& t = slots_.at(static_cast<size_t>(slot));
  t.resize(shape, zero);
  return t;
}

}  // namespace trim
