#pragma once
/// \file
/// The cache of large tensor blocks.
///
/// A tensor of 128 KiB or more gets its memory from a process-wide cache: a
/// freed block is kept and handed to the next tensor that needs about as
/// much (at least the size, at most twice it), instead of going back to the
/// system. The system hands out fresh memory a page at a time, zeroing each
/// page on first touch; an attribution method that builds and frees the
/// same buffers call after call spent up to 40 % of its time there.
///
/// What the cache keeps is bounded: a request no idle block fits first
/// returns as many idle bytes to the system (smallest blocks first, none
/// more than 4× its size, so a small request does not cost a large block the
/// next call needs), and idle blocks never add up to more than the most
/// tensor memory that was in use at once; the process holds at most twice
/// that. A run with a memory budget (`AttributionOptions::max_memory`)
/// keeps the stricter bound of `StrictTensorCache`.

#include <cstdint>

namespace trim {

/// Bytes of idle blocks the cache holds.
int64_t cached_tensor_bytes();

/// Returns every idle block to the system.
void release_cached_tensor_memory();

/// While one of these lives, the cache keeps idle and live memory together
/// within the most that was live since it began: it starts by returning every
/// idle block, a miss returns as many idle bytes first whatever their sizes,
/// and a block goes only to a tensor that needs at least 8/9 of it (a block
/// stays resident whole, so a loose fit would count against the budget).
/// Runs with a memory budget hold one, so that idle blocks do not push the
/// process past the budget.
class StrictTensorCache {
 public:
  StrictTensorCache();
  ~StrictTensorCache();
  StrictTensorCache(const StrictTensorCache&) = delete;
  StrictTensorCache& operator=(const StrictTensorCache&) = delete;
};

}  // namespace trim
