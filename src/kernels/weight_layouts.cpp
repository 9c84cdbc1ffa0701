#include "trim/kernels/weight_layouts.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>

#include "trim/core/parallel.hpp"
#include "weight_layouts.hpp"

namespace trim::kernels {

namespace detail {

namespace {

// xxHash's primes and rounds: every step below is a bijection of the state
// given the other inputs, so a change of one input word always reaches the
// result.
constexpr uint64_t kP1 = 11400714785074694791ull, kP2 = 14029467366897019727ull, kP3 = 1609587929392839161ull,
                   kP4 = 9650029242287828579ull;
constexpr uint32_t kQ1 = 2654435761u, kQ2 = 2246822519u;

inline uint64_t rotl(uint64_t v, int r) { return (v << r) | (v >> (64 - r)); }
inline uint32_t rotl32(uint32_t v, int r) { return (v << r) | (v >> (32 - r)); }
inline uint64_t mix(uint64_t acc, uint64_t v) { return rotl(acc + v * kP2, 31) * kP1; }
/// h with one more word v folded in (a bijection of v given h).
inline uint64_t fold(uint64_t h, uint64_t v) { return rotl(h ^ mix(0, v), 27) * kP1 + kP4; }

/// A 64-bit hash of the values x[0, n) (of their bits): any change of one
/// value changes it. Every kernel call that keeps a layout hashes its
/// weight (ResNet-50's 3×3 weights: 45 MB per pass), so the bulk runs in 64
/// independent 32-bit lanes (xxHash32's round), which the compiler turns
/// into vector multiplies: 3.8 GB/s with four 64-bit lanes, 15 to 17 with
/// these (45 MB, AVX-512).
uint64_t hash_run(const float* x, int64_t n) {
  constexpr int64_t kLanes = 64;
  uint32_t acc[kLanes];
  for (int64_t k = 0; k < kLanes; ++k) acc[k] = kQ1 + static_cast<uint32_t>(k) * kQ2;
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    uint32_t v[kLanes];
    std::memcpy(v, x + i, sizeof v);
    for (int64_t k = 0; k < kLanes; ++k) acc[k] = rotl32(acc[k] + v[k] * kQ2, 13) * kQ1;
  }
  uint64_t h = kP4 + static_cast<uint64_t>(n);
  for (uint32_t a : acc) h = fold(h, a);
  for (; i < n; ++i) {
    uint32_t v;
    std::memcpy(&v, x + i, sizeof v);
    h = rotl(h ^ (v * kP1), 23) * kP2 + kP3;
  }
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}

/// A 64-bit hash of x[0, n) with the same property: hash_run over runs of
/// 2¹⁸ floats on the pool (a 2-thread ResNet-18 pass spent 5 % of its time
/// hashing on one thread while the other waited), the runs' hashes folded in
/// order: the same result on any number of threads, and a change of one
/// run's hash changes it.
uint64_t hash_floats(const float* x, int64_t n) {
  constexpr int64_t kRun = int64_t{1} << 18;
  if (n <= kRun) return hash_run(x, n);
  std::vector<uint64_t> runs(static_cast<size_t>((n + kRun - 1) / kRun));
  parallel_tasks(static_cast<int64_t>(runs.size()), [&](int64_t r) {
    runs[static_cast<size_t>(r)] = hash_run(x + r * kRun, std::min(kRun, n - r * kRun));
  });
  uint64_t h = kP4 + static_cast<uint64_t>(n);
  for (uint64_t v : runs) h = fold(h, v);
  return h;
}

/// Uses of the cache after which a layout not used since may give way.
constexpr uint64_t kIdleUses = 1024;

struct Entry {
  const float* weight;
  int64_t count;
  LayoutKind kind;
  uint64_t hash;
  std::shared_ptr<const Tensor> layout;
  uint64_t last_use;
  int64_t bytes() const { return layout->numel() * static_cast<int64_t>(sizeof(float)); }
};

struct Cache {
  std::mutex mutex;
  std::vector<Entry> entries;
  int64_t bytes = 0;
  int64_t limit = int64_t{256} << 20;
  uint64_t uses = 0;
  int paused = 0;  ///< NoKeptWeightLayouts alive

  /// Drops entries (oldest use first) until `needed` more bytes fit, taking
  /// only those unused over the last kIdleUses uses unless `any`.
  void make_room(int64_t needed, bool any) {
    while (bytes + needed > limit && !entries.empty()) {
      auto oldest = std::min_element(entries.begin(), entries.end(),
                                     [](const Entry& a, const Entry& b) { return a.last_use < b.last_use; });
      if (!any && uses - oldest->last_use < kIdleUses) return;
      bytes -= oldest->bytes();
      entries.erase(oldest);
    }
  }
};

Cache& cache() {
  static Cache* c = new Cache;  // never destroyed: kernels may run during static destruction
  return *c;
}

}  // namespace

std::shared_ptr<const Tensor> weight_layout(const float* w, int64_t count, const LayoutKind& kind, int64_t floats,
                                            const std::function<void(float*)>& build) {
  Cache& c = cache();
  const int64_t bytes = floats * static_cast<int64_t>(sizeof(float));
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.paused > 0 || bytes > c.limit) return nullptr;
  }
  const uint64_t hash = hash_floats(w, count);
  // Found by the weight's values, wherever they lie (a graph composed with a
  // transform holds copies of the model's weights).
  const auto same = [&](const Entry& e) { return e.hash == hash && e.count == count && e.kind == kind; };
  const auto stale = [&](const Entry& e) { return e.weight == w && e.count == count && e.kind == kind; };
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    ++c.uses;
    auto it = std::find_if(c.entries.begin(), c.entries.end(), same);
    if (it != c.entries.end() && it->layout->numel() == floats) {
      it->weight = w;
      it->last_use = c.uses;
      return it->layout;
    }
    // The values at this address changed: their old layout gives way.
    it = std::find_if(c.entries.begin(), c.entries.end(), stale);
    if (it != c.entries.end()) {
      c.bytes -= it->bytes();
      c.entries.erase(it);
    }
    c.make_room(bytes, false);
    if (c.paused > 0 || c.bytes + bytes > c.limit) return nullptr;
  }
  auto layout = std::make_shared<Tensor>(Shape{floats});
  build(layout->data());
  std::lock_guard<std::mutex> lock(c.mutex);
  // Another thread may have kept the same layout meanwhile, or room gone.
  if (c.paused == 0 && std::none_of(c.entries.begin(), c.entries.end(), same) && c.bytes + bytes <= c.limit) {
    c.entries.push_back({w, count, kind, hash, layout, c.uses});
    c.bytes += bytes;
  }
  return layout;
}

}  // namespace detail

int64_t kept_weight_layout_bytes() {
  auto& c = detail::cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.bytes;
}

int64_t weight_layout_limit() {
  auto& c = detail::cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.limit;
}

void set_weight_layout_limit(int64_t bytes) {
  auto& c = detail::cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.limit = std::max<int64_t>(0, bytes);
  c.make_room(0, true);
}

void release_weight_layouts() {
  auto& c = detail::cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.entries.clear();
  c.bytes = 0;
}

NoKeptWeightLayouts::NoKeptWeightLayouts() {
  auto& c = detail::cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  if (c.paused++ == 0) {
    c.entries.clear();
    c.bytes = 0;
  }
}

NoKeptWeightLayouts::~NoKeptWeightLayouts() {
  auto& c = detail::cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  --c.paused;
}

}  // namespace trim::kernels
