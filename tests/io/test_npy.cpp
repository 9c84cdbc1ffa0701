// NumPy .npy reading and writing: NumPy-written files of every dtype and
// format version (tests/reference/make_npy.py), round trips, and corrupt
// files written here byte by byte.
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "temp_dir.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/io/npy.hpp"

using namespace trim;
using trim::test::randn;
using trim::test::TempDir;

namespace {

std::string npy_fixture(const std::string& name) { return std::string(TRIM_FIXTURE_DIR) + "/npy/" + name; }

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// A version-1 file: magic, header dict padded to 64 bytes, then `data`.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1) {
  std::string h = dict;
  const size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::string out = std::string("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += '\0';
  const size_t len = h.size();
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>((len >> 8) & 0xff);
  if (major > 1) out += std::string(2, '\0');
  return out + h + data;
}

std::string floats(std::initializer_list<float> v) {
  std::string s;
  for (float f : v) s.append(reinterpret_cast<const char*>(&f), 4);  // tests run on little-endian hosts
  return s;
}

/// The formula make_npy.py wrote (see its docstring).
double pattern(char kind, int64_t k) {
  switch (kind) {
    case 'b': return k % 3 == 1 ? 1.0 : 0.0;
    case 'i': return static_cast<double>(k * 3 - 5);
    case 'u': return static_cast<double>(k * 3 + 1);
    default: return static_cast<double>(k) * 0.25 - 1.5;
  }
}

}  // namespace

TEST_CASE("npy reads NumPy files of every supported dtype", "[io][npy]") {
  const struct {
    const char* file;
    io::NpyType type;
    char kind;
  } cases[] = {
      {"dtype_b1.npy", io::NpyType::Bool, 'b'},     {"dtype_i1.npy", io::NpyType::Int8, 'i'},
      {"dtype_i2.npy", io::NpyType::Int16, 'i'},    {"dtype_i4.npy", io::NpyType::Int32, 'i'},
      {"dtype_i8.npy", io::NpyType::Int64, 'i'},    {"dtype_u1.npy", io::NpyType::UInt8, 'u'},
      {"dtype_u2.npy", io::NpyType::UInt16, 'u'},   {"dtype_u4.npy", io::NpyType::UInt32, 'u'},
      {"dtype_u8.npy", io::NpyType::UInt64, 'u'},   {"dtype_f4.npy", io::NpyType::Float32, 'f'},
      {"dtype_f8.npy", io::NpyType::Float64, 'f'},
  };
  for (const auto& c : cases) {
    INFO(c.file);
    const io::NpyArray a = io::read_npy_array(npy_fixture(c.file));
    REQUIRE(a.type == c.type);
    REQUIRE(a.shape == std::vector<int64_t>{2, 3});
    REQUIRE(a.values.size() == 6);
    for (int64_t k = 0; k < 6; ++k) REQUIRE(a.values[static_cast<size_t>(k)] == pattern(c.kind, k));
    const Tensor t = io::read_npy(npy_fixture(c.file));
    REQUIRE(t.shape() == Shape{2, 3});
    for (int64_t k = 0; k < 6; ++k) REQUIRE(t[k] == static_cast<float>(pattern(c.kind, k)));
  }
}

TEST_CASE("npy reads format versions 2 and 3, Fortran order, big endian, 0-d and empty arrays", "[io][npy]") {
  for (const char* f : {"v2_f4.npy", "v3_f4.npy", "big_endian_f4.npy"}) {
    INFO(f);
    const Tensor t = io::read_npy(npy_fixture(f));
    REQUIRE(t.shape() == Shape{2, 3});
    for (int64_t k = 0; k < 6; ++k) REQUIRE(t[k] == static_cast<float>(pattern('f', k)));
  }
  // Fortran order is transposed into C order: the logical array is the C pattern.
  const io::NpyArray fa = io::read_npy_array(npy_fixture("fortran_f8.npy"));
  REQUIRE(fa.shape == std::vector<int64_t>{3, 4, 2});
  for (int64_t k = 0; k < 24; ++k) REQUIRE(fa.values[static_cast<size_t>(k)] == pattern('f', k));
  const Tensor ft = io::read_npy(npy_fixture("fortran_f8.npy"));
  REQUIRE(ft.shape() == Shape{3, 4, 2});
  REQUIRE(ft.at({2, 1, 1}) == static_cast<float>(pattern('f', 2 * 8 + 1 * 2 + 1)));

  const io::NpyArray s = io::read_npy_array(npy_fixture("scalar_f8.npy"));
  REQUIRE(s.shape.empty());
  REQUIRE(s.values == std::vector<double>{2.5});
  const Tensor st = io::read_npy(npy_fixture("scalar_f8.npy"));
  REQUIRE(st.shape() == Shape{1});
  REQUIRE(st[0] == 2.5f);

  const Tensor e = io::read_npy(npy_fixture("empty_f4.npy"));
  REQUIRE(e.shape() == Shape{0, 3});
  REQUIRE(e.numel() == 0);
}

TEST_CASE("npy rejects object arrays, structured and unsupported dtypes, and inexact int64", "[io][npy]") {
  REQUIRE_THROWS_WITH(io::read_npy(npy_fixture("object.npy")),
                      Catch::Contains("object.npy") && Catch::Contains("object arrays"));
  REQUIRE_THROWS_WITH(io::read_npy_array(npy_fixture("structured.npy")), Catch::Contains("structured"));
  REQUIRE_THROWS_WITH(io::read_npy(npy_fixture("float16.npy")),
                      Catch::Contains("unsupported dtype '<f2'") && Catch::Contains("float16.npy"));
  REQUIRE_THROWS_WITH(io::read_npy(npy_fixture("complex64.npy")), Catch::Contains("unsupported dtype '<c8'"));
  REQUIRE_THROWS_AS(io::read_npy_array(npy_fixture("huge_i8.npy")), IoError);
  // 2^53 itself is exact; 2^53 + 1 (element 3) is not.
  REQUIRE_THROWS_WITH(io::read_npy_array(npy_fixture("huge_i8.npy")), Catch::Contains("element 3") && Catch::Contains("2^53"));
}

TEST_CASE("npy writes what NumPy writes, byte for byte", "[io][npy]") {
  TempDir dir;
  Tensor t({2, 3});
  for (int64_t k = 0; k < 6; ++k) t[k] = static_cast<float>(pattern('f', k));
  io::write_npy(dir.file("a.npy"), t);
  REQUIRE(read_bytes(dir.file("a.npy")) == read_bytes(npy_fixture("dtype_f4.npy")));

  std::vector<double> v(6);
  for (int64_t k = 0; k < 6; ++k) v[static_cast<size_t>(k)] = pattern('f', k);
  io::write_npy(dir.file("b.npy"), {2, 3}, v);
  REQUIRE(read_bytes(dir.file("b.npy")) == read_bytes(npy_fixture("dtype_f8.npy")));

  io::write_npy(dir.file("c.npy"), std::vector<int64_t>{}, std::vector<double>{2.5});
  REQUIRE(read_bytes(dir.file("c.npy")) == read_bytes(npy_fixture("scalar_f8.npy")));
}

TEST_CASE("npy round trips tensors bit for bit", "[io][npy]") {
  TempDir dir;
  Tensor special({5});
  special[0] = std::numeric_limits<float>::quiet_NaN();
  special[1] = std::numeric_limits<float>::infinity();
  special[2] = -0.0f;
  special[3] = std::numeric_limits<float>::denorm_min();
  special[4] = -std::numeric_limits<float>::max();
  const Tensor cases[] = {randn({3, 4, 5}, 1), randn({7}, 2), special, randn({1, 2, 1, 2, 1, 2, 1, 2}, 3),
                          Tensor::scalar(4.0f), Tensor({0, 4})};
  for (const Tensor& t : cases) {
    INFO(t.shape().str());
    io::write_npy(dir.file("t.npy"), t);
    const Tensor r = io::read_npy(dir.file("t.npy"));
    REQUIRE(r.numel() == t.numel());
    if (t.rank() == 0) REQUIRE(r.shape() == Shape{1});
    else REQUIRE(r.shape() == t.shape());
    if (t.numel() > 0) REQUIRE(std::memcmp(r.data(), t.data(), static_cast<size_t>(t.numel()) * 4) == 0);
  }
  std::vector<double> d{1e-300, -1e300, 0.1, 3.0, std::nan(""), 1.0 / 3.0};
  io::write_npy(dir.file("d.npy"), {3, 2}, d);
  const io::NpyArray a = io::read_npy_array(dir.file("d.npy"));
  REQUIRE(a.type == io::NpyType::Float64);
  REQUIRE(a.shape == std::vector<int64_t>{3, 2});
  REQUIRE(std::memcmp(a.values.data(), d.data(), d.size() * 8) == 0);
  // float64 beyond float32's range: an error for the float reader, not inf.
  REQUIRE_THROWS_WITH(io::read_npy(dir.file("d.npy")),
                      Catch::Contains("d.npy") && Catch::Contains("outside float32's range"));
  REQUIRE_THROWS_AS(io::write_npy(dir.file("e.npy"), {4, 2}, d), ValueError);
  REQUIRE(io::npy_descr(io::NpyType::Float32) == "<f4");
  REQUIRE(io::npy_descr(io::NpyType::UInt8) == "|u1");
}

TEST_CASE("npy writes atomically and reports unwritable paths", "[io][npy]") {
  TempDir dir;
  const std::string path = dir.file("x.npy");
  io::write_npy(path, randn({4}, 1));
  io::write_npy(path, randn({2, 2}, 2));  // replaces the old file
  REQUIRE(io::read_npy(path).shape() == Shape{2, 2});
  REQUIRE_THROWS_WITH(io::write_npy(dir.file("missing/x.npy"), randn({4}, 1)),
                      Catch::Contains("missing/x.npy"));
  std::filesystem::create_directory(dir.file("adir"));
  REQUIRE_THROWS_AS(io::write_npy(dir.file("adir"), randn({4}, 1)), IoError);
  // No temporary file is left behind, after success or failure.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path)) {
    INFO(e.path().string());
    REQUIRE(e.path().string().find(".tmp.") == std::string::npos);
    ++files;
  }
  REQUIRE(files == 2);
}

TEST_CASE("npy rejects corrupt files with a message naming the file and the problem", "[io][npy]") {
  TempDir dir;
  const std::string six = floats({1, 2, 3, 4, 5, 6});
  const std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  const std::string path = dir.file("bad.npy");
  auto expect = [&](const std::string& bytes, const std::string& msg) {
    write_bytes(path, bytes);
    INFO("expected: " << msg);
    REQUIRE_THROWS_AS(io::read_npy(path), IoError);
    REQUIRE_THROWS_WITH(io::read_npy(path), Catch::Contains("bad.npy") && Catch::Contains(msg));
    REQUIRE_THROWS_WITH(io::read_npy_array(path), Catch::Contains(msg));
  };
  // Sanity: the hand-made good file reads.
  write_bytes(path, npy_bytes(good, six));
  REQUIRE(io::read_npy(path).at({1, 2}) == 6.0f);
  write_bytes(path, npy_bytes(good, six, 2));
  REQUIRE(io::read_npy(path).at({1, 0}) == 4.0f);

  expect("", "too short");
  expect("PK\x03\x04 this is a zip file, not npy", "bad magic");
  std::string bad_version = npy_bytes(good, six);
  bad_version[6] = 4;
  expect(bad_version, "unsupported format version 4.0");
  expect(npy_bytes(good, six).substr(0, 40), "exceeds");                       // truncated header
  expect(npy_bytes(good, six.substr(0, 20)), "truncated");                     // truncated data
  expect(npy_bytes(good, six + floats({7})), "extra bytes");                    // header lies: too small
  expect(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 3), }", six), "truncated");
  expect(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", six),
         "more elements than fit in 64 bits");
  expect(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", six),
         "more data bytes than the file holds");
  expect(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", six),
         "overflows 64 bits");
  expect(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-6,), }", six), "negative dimension");
  expect(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", six), "tuple of integers");
  expect(npy_bytes("{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", six), "unsupported dtype '<U3'");
  expect(npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (6,), }", six), "object arrays");
  expect(npy_bytes("{'descr': '=f4', 'fortran_order': False, 'shape': (2, 3), }", six), "native byte order");
  expect(npy_bytes("{'descr': '<f4', 'fortran_order': maybe, 'shape': (2, 3), }", six), "True or False");
  expect(npy_bytes("{'descr': '<f4', 'shape': (2, 3), }", six), "lacks 'fortran_order'");
  expect(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1, }", six),
         "unexpected key 'extra'");
  expect(npy_bytes("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", six),
         "'descr' twice");
  expect(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ", six), "ends early");
  std::string no_newline = npy_bytes(good, six);
  no_newline[no_newline.size() - six.size() - 1] = ' ';
  expect(no_newline, "newline");
  // A shape of rank 9 is fine for NumPy but beyond a trim Tensor.
  write_bytes(path, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,6), }", six));
  REQUIRE_THROWS_WITH(io::read_npy(path), Catch::Contains("maximum rank 8"));
  REQUIRE(io::read_npy_array(path).values.size() == 6);
  REQUIRE_THROWS_WITH(io::read_npy(dir.file("nothing.npy")),
                      Catch::Contains("nothing.npy") && Catch::Contains("cannot open"));
  std::filesystem::create_directory(dir.file("folder.npy"));
  REQUIRE_THROWS_WITH(io::read_npy(dir.file("folder.npy")),
                      Catch::Contains("folder.npy") && Catch::Contains("is a directory"));
}

TEST_CASE("npy never crashes on random bytes after a valid prefix", "[io][npy]") {
  TempDir dir;
  const std::string path = dir.file("fuzz.npy");
  Rng rng(5);
  const std::string base = read_bytes(npy_fixture("dtype_f8.npy"));
  for (int trial = 0; trial < 300; ++trial) {
    std::string bytes = base;
    // Flip a few bytes, or cut the file short.
    if (trial % 3 == 0) {
      bytes.resize(rng.below(bytes.size()));
    } else {
      for (int k = 0; k < 1 + trial % 4; ++k) bytes[rng.below(bytes.size())] = static_cast<char>(rng.below(256));
    }
    write_bytes(path, bytes);
    try {
      (void)io::read_npy_array(path);
    } catch (const IoError& e) {
      REQUIRE(std::string(e.what()).find("fuzz.npy") != std::string::npos);
    }
  }
}
