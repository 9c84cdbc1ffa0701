// dataset/summary.hpp against NumPy (tests/reference/make_summary.py), and
// the properties that make it usable at scale: chunking and splitting into
// merged parts do not change a single bit; the state survives serialisation.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <map>

#include "fixture.hpp"
#include "temp_dir.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/dataset/array.hpp"
#include "trim/dataset/summary.hpp"
#include "trim/io/npy.hpp"

using namespace trim;
using namespace trim::dataset;

namespace {

std::map<std::string, std::vector<double>> load_reference() {
  std::map<std::string, std::vector<double>> ref;
  test::for_each_fixture_tensor(std::string(TRIM_FIXTURE_DIR) + "/summary.txt",
                                [&](const std::string& name, const std::vector<int64_t>& dims, std::istream& in) {
                                  std::vector<double> v(static_cast<size_t>(dims.at(0)));
                                  for (double& x : v) in >> x;
                                  ref[name] = v;
                                });
  return ref;
}

struct Data {
  Tensor values;                // [300, 2, 3]
  std::vector<int64_t> labels;  // 300
};

Data load_data() {
  Data d;
  d.values = io::read_npy(std::string(TRIM_FIXTURE_DIR) + "/summary/values.npy");
  for (double l : io::read_npy_array(std::string(TRIM_FIXTURE_DIR) + "/summary/labels.npy").values)
    d.labels.push_back(static_cast<int64_t>(l));
  return d;
}

SummaryOptions fixture_options() {
  SummaryOptions o;
  o.bootstrap = 200;
  o.seed = 7;
  o.level = 0.95;
  return o;
}

Summary summarise(const Data& d, int64_t chunk, int64_t begin = 0, int64_t end = 300, bool labels = true,
                  SummaryOptions o = fixture_options()) {
  Summary s({2, 3}, o);
  for (int64_t i = begin; i < end; i += chunk) {
    const int64_t n = std::min(chunk, end - i);
    s.add(i, n, d.values.data() + i * 6, labels ? d.labels.data() + i : nullptr);
  }
  return s;
}

void require_matches(const ColumnStats& s, const std::map<std::string, std::vector<double>>& ref, const std::string& set) {
  REQUIRE(s.count == static_cast<int64_t>(ref.at(set + "_count")[0]));
  const std::pair<const char*, const std::vector<double>*> fields[] = {
      {"mean", &s.mean},     {"std", &s.stdev},       {"sem", &s.sem},       {"q1", &s.q1},
      {"median", &s.median}, {"q3", &s.q3},           {"ci_low", &s.ci_low}, {"ci_high", &s.ci_high}};
  for (const auto& f : fields) {
    const std::vector<double>& want = ref.at(set + "_" + f.first);
    REQUIRE(f.second->size() == want.size());
    for (size_t c = 0; c < want.size(); ++c) {
      INFO(set << " " << f.first << "[" << c << "] = " << (*f.second)[c] << ", NumPy " << want[c]);
      REQUIRE(std::fabs((*f.second)[c] - want[c]) <= 1e-6 * std::fabs(want[c]));
    }
  }
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

bool identical(const ColumnStats& a, const ColumnStats& b) {
  return a.count == b.count && same_bits(a.mean, b.mean) && same_bits(a.stdev, b.stdev) && same_bits(a.sem, b.sem) &&
         same_bits(a.ci_low, b.ci_low) && same_bits(a.ci_high, b.ci_high) && same_bits(a.median, b.median) &&
         same_bits(a.q1, b.q1) && same_bits(a.q3, b.q3);
}

bool identical(const SummaryResult& a, const SummaryResult& b) {
  if (!identical(a.all, b.all) || a.classes.size() != b.classes.size()) return false;
  for (size_t k = 0; k < a.classes.size(); ++k)
    if (a.classes[k].first != b.classes[k].first || !identical(a.classes[k].second, b.classes[k].second)) return false;
  return true;
}

}  // namespace

TEST_CASE("RunningStats: Welford and Chan's merge equal the two-pass formulas", "[summary]") {
  Rng rng(3);
  std::vector<double> x(1000);
  for (double& v : x) v = 1e4 + static_cast<double>(rng.below(1000)) * 0.001;  // large offset: naive sums lose digits
  double mean = 0;
  for (double v : x) mean += v;
  mean /= static_cast<double>(x.size());
  double ss = 0;
  for (double v : x) ss += (v - mean) * (v - mean);
  RunningStats all, a, b;
  for (size_t i = 0; i < x.size(); ++i) {
    all.add(x[i]);
    (i < 377 ? a : b).add(x[i]);
  }
  a.merge(b);
  for (const RunningStats& s : {all, a}) {
    REQUIRE(s.count == 1000);
    REQUIRE(s.mean == Approx(mean).epsilon(1e-14));
    REQUIRE(s.variance() == Approx(ss / 999).epsilon(1e-9));
    REQUIRE(s.sem() == Approx(std::sqrt(ss / 999 / 1000)).epsilon(1e-9));
  }
  RunningStats one;
  one.add(2.0);
  REQUIRE(std::isnan(one.variance()));
  RunningStats empty;
  empty.merge(one);
  REQUIRE(empty.mean == 2.0);
}

TEST_CASE("Summary equals NumPy on the full array (all examples and per class)", "[summary]") {
  const auto ref = load_reference();
  const Data d = load_data();
  const SummaryResult r = summarise(d, 37).result();
  require_matches(r.all, ref, "all");
  REQUIRE(r.classes.size() == 3);
  REQUIRE(r.classes[0].first == 0);
  REQUIRE(r.classes[1].first == 1);
  REQUIRE(r.classes[2].first == 4);
  require_matches(r.classes[0].second, ref, "class0");
  require_matches(r.classes[1].second, ref, "class1");
  require_matches(r.classes[2].second, ref, "class4");
}

TEST_CASE("Summary: chunk size, block-aligned splits and serialisation change no bit", "[summary]") {
  const Data d = load_data();
  const SummaryResult whole = summarise(d, 300).result();
  REQUIRE(identical(summarise(d, 1).result(), whole));
  REQUIRE(identical(summarise(d, 37).result(), whole));
  // Three parts on the block grid (64), merged in a scrambled order, as ranks would be.
  Summary a = summarise(d, 10, 0, 128), b = summarise(d, 50, 128, 192), c = summarise(d, 7, 192, 300);
  Summary merged = Summary::deserialize(c.serialize());
  merged.merge(Summary::deserialize(a.serialize()));
  merged.merge(b);
  REQUIRE(merged.examples() == 300);
  REQUIRE(identical(merged.result(), whole));
  // A split inside a block is joined (Chan's merge): equal to rounding, not bit for bit.
  Summary p = summarise(d, 9, 0, 100);
  p.merge(summarise(d, 9, 100, 300));
  const SummaryResult r = p.result();
  for (size_t k = 0; k < 6; ++k) {
    REQUIRE(r.all.mean[k] == Approx(whole.all.mean[k]).epsilon(1e-12));
    REQUIRE(r.all.stdev[k] == Approx(whole.all.stdev[k]).epsilon(1e-12));
    REQUIRE(r.all.median[k] == whole.all.median[k]);
  }
}

TEST_CASE("Summary without kept values: constant memory, moments only", "[summary]") {
  const Data d = load_data();
  SummaryOptions o = fixture_options();
  o.keep_values = false;
  const SummaryResult r = summarise(d, 64, 0, 300, false, o).result();
  const SummaryResult full = summarise(d, 64, 0, 300, false).result();
  REQUIRE(same_bits(r.all.mean, full.all.mean));
  REQUIRE(same_bits(r.all.stdev, full.all.stdev));
  REQUIRE(r.all.median.empty());
  REQUIRE(r.all.ci_low.empty());
  REQUIRE(r.classes.empty());
}

TEST_CASE("Summary rejects out-of-order examples, mixed labelling and bad merges", "[summary]") {
  const Data d = load_data();
  Summary s({2, 3});
  s.add(0, 3, d.values.data(), d.labels.data());
  REQUIRE_THAT(test::message_of<ValueError>([&] { s.add(1, 1, d.values.data()); }),
               Catch::Contains("labels must be given for every chunk"));
  REQUIRE_THAT(test::message_of<ValueError>([&] { s.add(1, 1, d.values.data(), d.labels.data()); }),
               Catch::Contains("example 1 arrived out of order"));
  Summary other({3, 2});
  REQUIRE_THAT(test::message_of<ValueError>([&] { s.merge(other); }), Catch::Contains("different shapes"));
  Summary overlap({2, 3});
  overlap.add(1, 2, d.values.data(), d.labels.data());
  REQUIRE_THAT(test::message_of<ValueError>([&] { s.merge(overlap); }), Catch::Contains("overlap"));
  REQUIRE_THROWS_AS(Summary::deserialize("nonsense"), ValueError);
  REQUIRE_THROWS_AS(Summary({0}), ValueError);
}

TEST_CASE("Summary JSON: nested per target and group, NaN as null", "[summary]") {
  const Data d = load_data();
  const std::string text = summarise(d, 300).result().to_json().dump(0);
  REQUIRE_THAT(text, Catch::Contains("\"examples\": 300"));
  REQUIRE_THAT(text, Catch::Contains("\"column_shape\": [2, 3]"));
  REQUIRE_THAT(text, Catch::Contains("\"classes\": {\"0\": {\"count\": 146"));
  REQUIRE_THAT(text, Catch::Contains("\"ci_low\": [["));
  Summary one({2});
  const float v[2] = {1, 2};
  one.add(0, 1, v);
  REQUIRE_THROWS_AS(one.result().to_json().dump(), ValueError);  // std of one example is NaN
  REQUIRE_THAT(one.result().to_json().dump(0, io::NonFinite::Null), Catch::Contains("\"std\": [null, null]"));
  test::TempDir dir("summary");
  io::write_json(dir.file("s.json"), one.result().to_json(), io::NonFinite::Null);
  REQUIRE(dir.entries().size() == 1);
}

TEST_CASE("Summary as an HDF5 group: the same numbers, per class, replacing an older group", "[summary][hdf5]") {
  if (!has_hdf5()) return;
  const Data d = load_data();
  const SummaryResult r = summarise(d, 50).result();
  test::TempDir dir("summary");
  const std::string file = dir.file("suite.h5");
  write_summary_hdf5(r, file, "/trim/summary");
  write_summary_hdf5(r, file, "/trim/summary");  // again: replaces, no error
  auto mean = open_array(file + ":/trim/summary/all/mean");
  REQUIRE(mean->shape() == std::vector<int64_t>{2, 3});
  const Tensor m = mean->read(0, 2);
  for (int64_t k = 0; k < 6; ++k) REQUIRE(m[k] == static_cast<float>(r.all.mean[static_cast<size_t>(k)]));
  const Tensor q3 = open_array(file + ":/trim/summary/classes/4/q3")->read(0, 2);
  for (int64_t k = 0; k < 6; ++k) REQUIRE(q3[k] == static_cast<float>(r.classes[2].second.q3[static_cast<size_t>(k)]));
  REQUIRE_THROWS_AS(open_array(file + ":/trim/summary.partial/all/mean"), IoError);
  REQUIRE_THROWS_AS(write_summary_hdf5(r, file, "trim"), ValueError);
}
