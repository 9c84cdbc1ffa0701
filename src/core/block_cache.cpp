#include "block_cache.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>

#include "trim/core/memory.hpp"

// Under AddressSanitizer an idle block is poisoned, so a use after free of a
// large tensor is still reported although its memory stays allocated.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TRIM_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TRIM_ASAN 1
#endif
#if defined(TRIM_ASAN)
#include <sanitizer/asan_interface.h>
#define TRIM_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define TRIM_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define TRIM_POISON(p, n) ((void)(p), (void)(n))
#define TRIM_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace trim::detail {
namespace {

struct BlockCache {
  std::mutex mutex;
  std::multimap<std::size_t, void*> idle;  ///< real size → block
  std::size_t idle_bytes = 0;
  std::size_t live_bytes = 0;  ///< cached-size blocks handed out and not yet given back
  std::size_t peak_live = 0;   ///< the most live_bytes ever
  int strict = 0;              ///< StrictTensorCache objects alive

  // Callers hold the mutex. Frees idle blocks of at most `largest` bytes,
  // smallest first, until at least `bytes` are freed or none is left.
  void release(std::size_t bytes, std::size_t largest = SIZE_MAX) noexcept {
    std::size_t freed = 0;
    while (!idle.empty() && freed < bytes && idle.begin()->first <= largest) {
      const auto smallest = idle.begin();
      TRIM_UNPOISON(smallest->second, smallest->first);
      std::free(smallest->second);
      freed += smallest->first;
      idle_bytes -= smallest->first;
      idle.erase(smallest);
    }
  }
};

// Never destroyed: tensors with static storage may be freed after any other
// static object is gone, and give their blocks back here.
BlockCache& cache() {
  static BlockCache* c = new BlockCache;
  return *c;
}

}  // namespace

void* take_block(std::size_t& bytes, std::size_t alignment) {
  if (bytes >= kCachedBlockMin) {
    BlockCache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    // The smallest idle block that fits, if it wastes at most half of itself
    // (an eighth under a budget: its whole block stays resident).
    const auto it = c.idle.lower_bound(bytes);
    const std::size_t most = c.strict > 0 ? bytes + bytes / 8 : 2 * bytes;
    if (it != c.idle.end() && it->first <= most) {
      bytes = it->first;
      void* block = it->second;
      c.idle_bytes -= it->first;
      c.idle.erase(it);
      c.live_bytes += bytes;
      TRIM_UNPOISON(block, bytes);
      return block;
    }
    // A miss. As many idle bytes as the new block go back first, from the
    // idle blocks up to 4× its size, smallest first (cheapest to fault in
    // again; a small request does not cost a large block the next call
    // needs), and then whatever keeps the idle bytes within the most that
    // was ever live at once: the process holds at most twice that.
    c.release(bytes, c.strict > 0 ? SIZE_MAX : 4 * bytes);
    void* block = std::aligned_alloc(alignment, bytes);
    if (!block) throw std::bad_alloc();
    c.live_bytes += bytes;
    c.peak_live = std::max(c.peak_live, c.live_bytes);
    if (c.idle_bytes > c.peak_live) c.release(c.idle_bytes - c.peak_live);
    return block;
  }
  void* block = std::aligned_alloc(alignment, bytes);
  if (!block) throw std::bad_alloc();
  return block;
}

void give_block(void* block, std::size_t bytes) noexcept {
  if (bytes < kCachedBlockMin) {
    std::free(block);
    return;
  }
  BlockCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.live_bytes -= bytes;
  try {
    c.idle.emplace(bytes, block);
    c.idle_bytes += bytes;
    TRIM_POISON(block, bytes);
  } catch (...) {  // no memory for the map's node: free the block instead
    std::free(block);
  }
}

}  // namespace trim::detail

namespace trim {

int64_t cached_tensor_bytes() {
  detail::BlockCache& c = detail::cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return static_cast<int64_t>(c.idle_bytes);
}

void release_cached_tensor_memory() {
  detail::BlockCache& c = detail::cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.release(c.idle_bytes);
}

StrictTensorCache::StrictTensorCache() {
  detail::BlockCache& c = detail::cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  ++c.strict;
  c.release(c.idle_bytes);
}

StrictTensorCache::~StrictTensorCache() {
  detail::BlockCache& c = detail::cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  --c.strict;
}

}  // namespace trim
