// Streaming summaries (dataset/summary.hpp): Welford blocks on a fixed grid
// of global example indices, merged with Chan's formula in block order;
// exact quantiles and a counter-hash bootstrap from the kept values.
#include "trim/dataset/summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "trim/core/error.hpp"

namespace trim::dataset {

void RunningStats::add(double x) {
  ++count;
  const double delta = x - mean;
  mean += delta / static_cast<double>(count);
  m2 += delta * (x - mean);
}

void RunningStats::merge(const RunningStats& o) {
  if (o.count == 0) return;
  if (count == 0) {
    *this = o;
    return;
  }
  const double na = static_cast<double>(count), nb = static_cast<double>(o.count), n = na + nb;
  const double delta = o.mean - mean;
  mean += delta * (nb / n);
  m2 += o.m2 + delta * delta * (na * nb / n);
  count += o.count;
}

double RunningStats::variance() const {
  return count < 2 ? std::numeric_limits<double>::quiet_NaN() : m2 / static_cast<double>(count - 1);
}
double RunningStats::stdev() const { return std::sqrt(variance()); }
double RunningStats::sem() const { return stdev() / std::sqrt(static_cast<double>(count)); }

int64_t bootstrap_index(uint64_t seed, int64_t replicate, int64_t i, int64_t n) {
  auto mix = [](uint64_t z) {
    z ^= z >> 30;
    z *= 0xBF58476D1CE4E5B9ULL;
    z ^= z >> 27;
    z *= 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  constexpr uint64_t golden = 0x9E3779B97F4A7C15ULL;
  const uint64_t s = mix(seed + golden * (static_cast<uint64_t>(replicate) + 1));
  const uint64_t h = mix(s + golden * (static_cast<uint64_t>(i) + 1));
  return static_cast<int64_t>((static_cast<unsigned __int128>(h) * static_cast<uint64_t>(n)) >> 64);
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// numpy.quantile's default ("linear"): interpolate between the order
/// statistics around q (n − 1). Reorders `x`.
double quantile(std::vector<double>& x, double q) {
  if (x.empty()) return kNaN;
  const double pos = q * static_cast<double>(x.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, x.size() - 1);
  std::nth_element(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(lo), x.end());
  const double a = x[lo];
  double b = a;
  if (hi != lo) b = *std::min_element(x.begin() + static_cast<std::ptrdiff_t>(hi), x.end());
  const double t = pos - static_cast<double>(lo);
  return t == 0 ? a : a + (b - a) * t;
}

/// The statistics of one set: Welford parts in block order, kept values in index order.
ColumnStats finish(const std::vector<const std::vector<RunningStats>*>& parts, const std::vector<const float*>& rows,
                   int64_t columns, const SummaryOptions& o) {
  ColumnStats s;
  std::vector<RunningStats> acc(static_cast<size_t>(columns));
  for (const auto* p : parts)
    for (int64_t c = 0; c < columns; ++c) acc[static_cast<size_t>(c)].merge((*p)[static_cast<size_t>(c)]);
  s.count = acc.empty() ? 0 : acc[0].count;
  for (const RunningStats& r : acc) {
    s.mean.push_back(r.count ? r.mean : kNaN);
    s.stdev.push_back(r.stdev());
    s.sem.push_back(r.sem());
  }
  if (!o.keep_values) return s;
  const int64_t n = static_cast<int64_t>(rows.size());
  std::vector<double> col(static_cast<size_t>(n));
  for (int64_t c = 0; c < columns; ++c) {
    for (int64_t i = 0; i < n; ++i) col[static_cast<size_t>(i)] = rows[static_cast<size_t>(i)][c];
    s.q1.push_back(quantile(col, 0.25));
    s.median.push_back(quantile(col, 0.5));
    s.q3.push_back(quantile(col, 0.75));
  }
  if (o.bootstrap <= 0) return s;
  // Replicate b draws rows bootstrap_index(seed, b, i, n), i < n; its mean
  // per column is one sample of the bootstrap distribution of the mean.
  std::vector<std::vector<double>> means(static_cast<size_t>(columns), std::vector<double>(static_cast<size_t>(o.bootstrap)));
  std::vector<double> sum(static_cast<size_t>(columns));
  for (int b = 0; b < o.bootstrap; ++b) {
    std::fill(sum.begin(), sum.end(), 0.0);
    for (int64_t i = 0; i < n; ++i) {
      const float* row = rows[static_cast<size_t>(bootstrap_index(o.seed, b, i, n))];
      for (int64_t c = 0; c < columns; ++c) sum[static_cast<size_t>(c)] += row[c];
    }
    for (int64_t c = 0; c < columns; ++c)
      means[static_cast<size_t>(c)][static_cast<size_t>(b)] = n ? sum[static_cast<size_t>(c)] / static_cast<double>(n) : kNaN;
  }
  const double tail = (1 - o.level) / 2;
  for (int64_t c = 0; c < columns; ++c) {
    auto& m = means[static_cast<size_t>(c)];
    s.ci_low.push_back(n ? quantile(m, tail) : kNaN);
    s.ci_high.push_back(n ? quantile(m, 1 - tail) : kNaN);
  }
  return s;
}

io::Json nest(const std::vector<double>& v, const std::vector<int64_t>& shape, size_t dim, size_t& at) {
  if (dim == shape.size()) return io::Json(v[at++]);
  io::Json a = io::Json::array();
  for (int64_t i = 0; i < shape[dim]; ++i) a.push(nest(v, shape, dim + 1, at));
  return a;
}

io::Json stats_json(const ColumnStats& s, const std::vector<int64_t>& shape) {
  io::Json o = io::Json::object();
  o.set("count", s.count);
  auto put = [&](const char* key, const std::vector<double>& v) {
    if (v.empty()) return;
    size_t at = 0;
    o.set(key, nest(v, shape, 0, at));
  };
  put("mean", s.mean);
  put("std", s.stdev);
  put("sem", s.sem);
  put("ci_low", s.ci_low);
  put("ci_high", s.ci_high);
  put("median", s.median);
  put("q1", s.q1);
  put("q3", s.q3);
  return o;
}

// ---- byte serialisation (same machine architecture on every rank) ----

template <class T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
template <class T>
void put_vec(std::string& out, const std::vector<T>& v) {
  put(out, static_cast<uint64_t>(v.size()));
  out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

class Reader {
 public:
  explicit Reader(const std::string& s) : s_(s) {}
  template <class T>
  T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, s_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  template <class T>
  std::vector<T> get_vec() {
    const uint64_t n = get<uint64_t>();
    if (n > (s_.size() - pos_) / sizeof(T)) bad();
    std::vector<T> v(static_cast<size_t>(n));
    std::memcpy(v.data(), s_.data() + pos_, static_cast<size_t>(n) * sizeof(T));
    pos_ += static_cast<size_t>(n) * sizeof(T);
    return v;
  }
  bool done() const { return pos_ == s_.size(); }
  [[noreturn]] static void bad() { throw ValueError("summary: corrupt serialised state"); }

 private:
  void need(size_t n) {
    if (n > s_.size() - pos_) bad();
  }
  const std::string& s_;
  size_t pos_ = 0;
};

}  // namespace

io::Json SummaryResult::to_json() const {
  io::Json j = io::Json::object();
  j.set("examples", all.count);
  j.set("column_shape", io::Json(column_shape));
  j.set("std_ddof", 1);
  j.set("quantiles", options.keep_values ? "exact: numpy.quantile's default linear interpolation"
                                         : "not computed (keep_values off)");
  io::Json b = io::Json::object();
  b.set("replicates", options.keep_values ? options.bootstrap : 0);
  b.set("seed", static_cast<unsigned long long>(options.seed));
  b.set("level", options.level);
  b.set("statistic", "mean");
  b.set("interval", "percentile");
  j.set("bootstrap", b);
  j.set("all", stats_json(all, column_shape));
  if (!classes.empty()) {
    io::Json c = io::Json::object();
    for (const auto& kv : classes) c.set(std::to_string(kv.first), stats_json(kv.second, column_shape));
    j.set("classes", c);
  }
  return j;
}

Summary::Summary(std::vector<int64_t> column_shape, SummaryOptions options)
    : column_shape_(std::move(column_shape)), options_(options) {
  columns_ = 1;
  for (int64_t d : column_shape_) {
    if (d <= 0) throw ValueError("summary: column shape dimensions must be positive");
    columns_ *= d;
  }
  if (options_.block <= 0) throw ValueError("summary: block must be positive");
  if (options_.bootstrap < 0) throw ValueError("summary: bootstrap replicates must be >= 0");
  if (!(options_.level > 0 && options_.level < 1)) throw ValueError("summary: level must be in (0, 1)");
}

int64_t Summary::examples() const {
  int64_t n = 0;
  for (const auto& kv : blocks_) n += kv.second.count;
  return n;
}

void Summary::add(int64_t first, int64_t count, const float* values, const int64_t* labels) {
  if (first < 0 || count < 0) throw ValueError("summary: negative example index or count");
  if (count == 0) return;
  if (blocks_.empty()) labelled_ = labels != nullptr;
  if (labelled_ != (labels != nullptr))
    throw ValueError("summary: labels must be given for every chunk or for none");
  const size_t cols = static_cast<size_t>(columns_);
  for (int64_t k = 0; k < count; ++k) {
    const int64_t g = first + k;
    const int64_t id = g / options_.block;
    auto it = blocks_.find(id);
    if (it == blocks_.end()) {
      Block b;
      b.first = g;
      b.all.resize(cols);
      it = blocks_.emplace(id, std::move(b)).first;
    }
    Block& b = it->second;
    if (g != b.first + b.count)
      throw ValueError("summary: example " + std::to_string(g) + " arrived out of order (block " + std::to_string(id) +
                       " holds examples " + std::to_string(b.first) + " to " + std::to_string(b.first + b.count - 1) +
                       "); add examples in increasing order, each once");
    const float* row = values + static_cast<size_t>(k) * cols;
    for (size_t c = 0; c < cols; ++c) b.all[c].add(row[c]);
    if (labels) {
      auto& cls = b.classes[labels[k]];
      if (cls.empty()) cls.resize(cols);
      for (size_t c = 0; c < cols; ++c) cls[c].add(row[c]);
      if (options_.keep_values) b.labels.push_back(labels[k]);
    }
    if (options_.keep_values) b.values.insert(b.values.end(), row, row + cols);
    ++b.count;
  }
}

void Summary::join(Block& a, const Block& b, int64_t columns) {
  const size_t cols = static_cast<size_t>(columns);
  for (size_t c = 0; c < cols; ++c) a.all[c].merge(b.all[c]);
  for (const auto& kv : b.classes) {
    auto& cls = a.classes[kv.first];
    if (cls.empty()) cls.resize(cols);
    for (size_t c = 0; c < cols; ++c) cls[c].merge(kv.second[c]);
  }
  a.values.insert(a.values.end(), b.values.begin(), b.values.end());
  a.labels.insert(a.labels.end(), b.labels.begin(), b.labels.end());
  a.count += b.count;
}

void Summary::merge(const Summary& other) {
  if (other.column_shape_ != column_shape_ || other.options_.block != options_.block ||
      other.options_.keep_values != options_.keep_values || other.options_.bootstrap != options_.bootstrap ||
      other.options_.seed != options_.seed || other.options_.level != options_.level)
    throw ValueError("summary: cannot merge summaries of different shapes or options");
  if (other.blocks_.empty()) return;
  if (blocks_.empty()) labelled_ = other.labelled_;
  if (labelled_ != other.labelled_) throw ValueError("summary: cannot merge a labelled and an unlabelled summary");
  for (const auto& kv : other.blocks_) {
    auto it = blocks_.find(kv.first);
    if (it == blocks_.end()) {
      blocks_.emplace(kv.first, kv.second);
      continue;
    }
    Block& a = it->second;
    const Block& b = kv.second;
    if (a.first + a.count == b.first) {
      join(a, b, columns_);
    } else if (b.first + b.count == a.first) {
      Block c = b;
      join(c, a, columns_);
      a = std::move(c);
    } else {
      throw ValueError("summary: merged summaries overlap or leave a gap inside block " + std::to_string(kv.first) +
                       " (examples " + std::to_string(a.first) + "+" + std::to_string(a.count) + " and " +
                       std::to_string(b.first) + "+" + std::to_string(b.count) + ")");
    }
  }
}

SummaryResult Summary::result() const {
  SummaryResult r;
  r.column_shape = column_shape_;
  r.options = options_;
  const size_t cols = static_cast<size_t>(columns_);
  std::vector<const std::vector<RunningStats>*> parts;
  std::vector<const float*> rows;
  for (const auto& kv : blocks_) {
    parts.push_back(&kv.second.all);
    if (options_.keep_values)
      for (int64_t i = 0; i < kv.second.count; ++i) rows.push_back(kv.second.values.data() + static_cast<size_t>(i) * cols);
  }
  r.all = finish(parts, rows, columns_, options_);
  if (!labelled_) return r;
  std::map<int64_t, bool> labels;
  for (const auto& kv : blocks_)
    for (const auto& c : kv.second.classes) labels[c.first] = true;
  for (const auto& l : labels) {
    parts.clear();
    rows.clear();
    for (const auto& kv : blocks_) {
      const Block& b = kv.second;
      auto it = b.classes.find(l.first);
      if (it != b.classes.end()) parts.push_back(&it->second);
      if (options_.keep_values)
        for (int64_t i = 0; i < b.count; ++i)
          if (b.labels[static_cast<size_t>(i)] == l.first) rows.push_back(b.values.data() + static_cast<size_t>(i) * cols);
    }
    r.classes.emplace_back(l.first, finish(parts, rows, columns_, options_));
  }
  return r;
}

std::string Summary::serialize() const {
  std::string out = "trimsum1";
  put_vec(out, column_shape_);
  put(out, options_.bootstrap);
  put(out, options_.seed);
  put(out, options_.level);
  put(out, static_cast<uint8_t>(options_.keep_values));
  put(out, options_.block);
  put(out, static_cast<uint8_t>(labelled_));
  put(out, static_cast<uint64_t>(blocks_.size()));
  for (const auto& kv : blocks_) {
    const Block& b = kv.second;
    put(out, kv.first);
    put(out, b.first);
    put(out, b.count);
    put_vec(out, b.all);
    put(out, static_cast<uint64_t>(b.classes.size()));
    for (const auto& c : b.classes) {
      put(out, c.first);
      put_vec(out, c.second);
    }
    put_vec(out, b.values);
    put_vec(out, b.labels);
  }
  return out;
}

Summary Summary::deserialize(const std::string& bytes) {
  if (bytes.compare(0, 8, "trimsum1") != 0) Reader::bad();
  const std::string body = bytes.substr(8);
  Reader in(body);
  std::vector<int64_t> shape = in.get_vec<int64_t>();
  SummaryOptions o;
  o.bootstrap = in.get<int>();
  o.seed = in.get<uint64_t>();
  o.level = in.get<double>();
  o.keep_values = in.get<uint8_t>() != 0;
  o.block = in.get<int64_t>();
  Summary s(shape, o);
  s.labelled_ = in.get<uint8_t>() != 0;
  const uint64_t nblocks = in.get<uint64_t>();
  for (uint64_t k = 0; k < nblocks; ++k) {
    const int64_t id = in.get<int64_t>();
    Block b;
    b.first = in.get<int64_t>();
    b.count = in.get<int64_t>();
    b.all = in.get_vec<RunningStats>();
    if (static_cast<int64_t>(b.all.size()) != s.columns_) Reader::bad();
    const uint64_t nc = in.get<uint64_t>();
    for (uint64_t c = 0; c < nc; ++c) {
      const int64_t label = in.get<int64_t>();
      b.classes[label] = in.get_vec<RunningStats>();
    }
    b.values = in.get_vec<float>();
    b.labels = in.get_vec<int64_t>();
    s.blocks_.emplace(id, std::move(b));
  }
  if (!in.done()) Reader::bad();
  return s;
}

}  // namespace trim::dataset
