#pragma once
// Internal: large aligned blocks for tensors, kept when freed for the next
// tensor of about the same size (see trim/core/memory.hpp for the policy).
#include <cstddef>

namespace trim::detail {

/// Blocks below this go straight to aligned_alloc / free.
constexpr std::size_t kCachedBlockMin = std::size_t{128} << 10;

/// A block of at least `bytes` (a multiple of `alignment`), aligned to
/// `alignment`; `bytes` is raised to the block's real size. Throws
/// std::bad_alloc when the system has no memory.
void* take_block(std::size_t& bytes, std::size_t alignment);

/// Gives back a block of `bytes` (its real size) from take_block.
void give_block(void* block, std::size_t bytes) noexcept;

}  // namespace trim::detail
