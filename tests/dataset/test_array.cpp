// dataset/array.hpp: streamed reads equal the in-memory arrays for .npy,
// HDF5 (chunked, gzip) and FITS; writers are atomic and resumable; resident
// memory stays bounded on a 2 GiB file.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "temp_dir.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/dataset/array.hpp"
#include "trim/io/npy.hpp"

#ifdef TRIM_TEST_HDF5
#include <hdf5.h>
#endif
#ifdef TRIM_TEST_FITS
#include <fitsio.h>
#endif

using namespace trim;
using namespace trim::dataset;

namespace {

/// Reads every row of `spec` in chunks of `chunk` into one tensor.
Tensor read_streamed(const std::string& spec, int64_t chunk) {
  auto r = open_array(spec);
  std::vector<int64_t> s = r->shape();
  Tensor all{Shape(s)};
  for (int64_t i = 0; i < r->rows(); i += chunk) {
    const int64_t n = std::min(chunk, r->rows() - i);
    const Tensor part = r->read(i, n);
    REQUIRE(part.dim(0) == n);
    std::copy(part.begin(), part.end(), all.begin() + i * r->row_size());
  }
  return all;
}

void require_equal(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  for (int64_t i = 0; i < a.numel(); ++i) {
    INFO("element " << i);
    REQUIRE(a[i] == b[i]);
  }
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int64_t resident_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return -1;
}

}  // namespace

TEST_CASE("Array specs name the format, the file and the array inside", "[array]") {
  ArraySpec s = parse_array_spec("maps.npy");
  REQUIRE(s.format == Format::Npy);
  s = parse_array_spec("dir/suite.h5:/sims/maps");
  REQUIRE(s.format == Format::Hdf5);
  REQUIRE(s.file == "dir/suite.h5");
  REQUIRE(s.inner == "/sims/maps");
  s = parse_array_spec("maps.fits[MAPS]");
  REQUIRE(s.format == Format::Fits);
  REQUIRE(s.file == "maps.fits");
  REQUIRE(s.inner == "MAPS");
  REQUIRE(parse_array_spec("maps.FITS").inner.empty());
  REQUIRE_THAT(test::message_of<ValueError>([] { parse_array_spec("suite.h5"); }), Catch::Contains("suite.h5:/maps"));
  REQUIRE_THAT(test::message_of<ValueError>([] { parse_array_spec("suite.h5:maps"); }), Catch::Contains("start with '/'"));
  REQUIRE_THAT(test::message_of<ValueError>([] { parse_array_spec("maps.csv"); }), Catch::Contains("unknown format"));
}

TEST_CASE("npy: memory-mapped chunks equal read_npy, for float and integer files", "[array][npy]") {
  test::TempDir dir("array");
  const Tensor x = test::randn({11, 3, 4}, 5);
  io::write_npy(dir.file("x.npy"), x);
  for (int64_t chunk : {1, 4, 11}) require_equal(read_streamed(dir.file("x.npy"), chunk), x);
  // float64 and int16 files are converted as read_npy converts them.
  for (const char* name : {"dtype_f8.npy", "dtype_i2.npy", "big_endian_f4.npy", "dtype_u1.npy"}) {
    const std::string path = std::string(TRIM_FIXTURE_DIR) + "/npy/" + name;
    INFO(name);
    require_equal(read_streamed(path, 1), io::read_npy(path));
  }
  auto r = open_array(dir.file("x.npy"));
  REQUIRE_THAT(test::message_of<ValueError>([&] { r->read(10, 2); }), Catch::Contains("outside its 11 examples"));
  REQUIRE_THAT(test::message_of<IoError>([&] { open_array(dir.file("missing.npy")); }), Catch::Contains("missing.npy"));
  REQUIRE_THAT(test::message_of<IoError>([] { open_array(std::string(TRIM_FIXTURE_DIR) + "/npy/fortran_f8.npy"); }),
               Catch::Contains("Fortran-order"));
}

TEST_CASE("npy writer: rows in any order, visible only after commit, nothing left on failure", "[array][npy]") {
  test::TempDir dir("array");
  const Tensor x = test::randn({10, 2, 3}, 6);
  {
    auto w = create_array(dir.file("out.npy"), {10, 2, 3});
    for (int64_t first : {8, 0, 4, 2, 6}) w->write(first, 2, x.data() + first * 6);
    REQUIRE(w->complete());
    REQUIRE(dir.entries().size() == 2);  // out.npy.partial and its progress
    w->commit();
  }
  REQUIRE(dir.entries() == std::vector<std::string>{"out.npy"});
  require_equal(io::read_npy(dir.file("out.npy")), x);
  {
    auto w = create_array(dir.file("gone.npy"), {10, 2, 3});
    w->write(0, 3, x.data());
    REQUIRE_THAT(test::message_of<IoError>([&] { w->commit(); }), Catch::Contains("7 of 10 examples were never written"));
  }
  REQUIRE(dir.entries() == std::vector<std::string>{"out.npy"});
  auto w = create_array(dir.file("x.npy"), {10, 2, 3});
  REQUIRE_THROWS_AS(w->write(0, Tensor({2, 3, 2})), ShapeError);
  REQUIRE_THROWS_AS(w->write(9, 2, x.data()), ValueError);
  REQUIRE_THROWS_AS(create_array(dir.file("x.fits"), {1, 2}), ValueError);
}

TEST_CASE("npy writer: a resumed run equals an uninterrupted one", "[array][npy][resume]") {
  test::TempDir dir("array");
  const Tensor x = test::randn({12, 5}, 7);
  {
    auto w = create_array(dir.file("ref.npy"), {12, 5});
    w->write(0, x);
    w->commit();
  }
  WriterOptions o;
  o.resume = true;
  o.keep_partial = true;
  o.attributes = {{"method", "ig"}, {"steps", "50"}};
  {
    auto w = create_array(dir.file("run.npy"), {12, 5}, o);
    REQUIRE(w->finished().empty());
    for (int64_t first : {0, 3, 9}) w->write(first, 3, x.data() + first * 5);
  }  // the "kill": the partial file and its progress stay
  // A torn progress line (killed while appending) is ignored.
  { std::ofstream(dir.file("run.npy.partial.progress"), std::ios::app) << "6 "; }
  {
    WriterOptions other = o;
    other.attributes[1].second = "100";  // another run's settings: not resumed
    other.keep_partial = false;
    auto w = create_array(dir.file("other.npy"), {12, 5}, other);
    REQUIRE(w->finished().empty());
  }
  auto w = create_array(dir.file("run.npy"), {12, 5}, o);
  REQUIRE(w->finished() == std::vector<Rows>{{0, 6}, {9, 3}});
  REQUIRE(w->is_finished({3, 3}));
  REQUIRE_FALSE(w->is_finished({5, 2}));
  std::vector<float> back(15);
  w->read_back(9, 3, back.data());
  REQUIRE(std::equal(back.begin(), back.end(), x.data() + 45));
  REQUIRE_THROWS_AS(w->read_back(5, 2, back.data()), ValueError);
  for (int64_t first = 0; first < 12; first += 3)
    if (!w->is_finished({first, 3})) w->write(first, 3, x.data() + first * 5);
  w->commit();
  REQUIRE(file_bytes(dir.file("run.npy")) == file_bytes(dir.file("ref.npy")));
  // Settings that differ start afresh instead of mixing two runs.
  WriterOptions changed = o;
  changed.attributes[0].second = "cd";
  auto fresh = create_array(dir.file("run2.npy"), {12, 5}, o);
  fresh->write(0, 3, x.data());
  fresh.reset();
  REQUIRE(create_array(dir.file("run2.npy"), {12, 5}, changed)->finished().empty());
}

TEST_CASE("npy reader: resident memory stays bounded on a 2 GiB file", "[array][npy][memory]") {
  // A sparse 2 GiB float32 file [8192, 256, 256] (no disk blocks, so it is
  // quick to make and to read) with one known value per 1024 rows. Every
  // page is mapped and copied; without dropping read pages the resident set
  // would grow to 2 GiB.
  test::TempDir dir("memory");
  const std::string path = dir.file("big.npy");
  const int64_t N = 8192, row = 256 * 256;
  const std::string header = io::npy_header_bytes("<f4", {N, 256, 256});
  {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::pwrite(fd, header.data(), header.size(), 0) == static_cast<ssize_t>(header.size()));
    REQUIRE(::ftruncate(fd, static_cast<off_t>(header.size() + N * row * 4)) == 0);
    for (int64_t i = 0; i < N; i += 1024) {
      const float v = static_cast<float>(i + 1);
      REQUIRE(::pwrite(fd, &v, 4, static_cast<off_t>(header.size() + (i * row + 17) * 4)) == 4);
    }
    ::close(fd);
  }
  const int64_t before = resident_bytes();
  int64_t peak = before;
  double sum = 0;
  {
    auto r = open_array(path);
    REQUIRE(r->rows() == N);
    std::vector<float> chunk(static_cast<size_t>(64 * row));
    for (int64_t i = 0; i < N; i += 64) {
      r->read_into(i, 64, chunk.data());
      for (int64_t k = 0; k < 64; ++k) sum += chunk[static_cast<size_t>(k * row + 17)];
      peak = std::max(peak, resident_bytes());
    }
  }
  double want = 0;
  for (int64_t i = 0; i < N; i += 1024) want += static_cast<double>(i + 1);
  REQUIRE(sum == want);
  INFO("resident before " << before / (1 << 20) << " MiB, peak " << peak / (1 << 20) << " MiB");
  REQUIRE(peak < 500ll << 20);
  REQUIRE(peak - before < 100ll << 20);
}

#ifdef TRIM_TEST_HDF5
namespace {

/// A chunked, gzip-compressed float64 dataset written with the HDF5 C API.
void make_hdf5(const std::string& file, const std::string& path, const std::vector<double>& v,
               const std::vector<hsize_t>& dims) {
  const hid_t f = H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  std::vector<hsize_t> chunk = dims;
  chunk[0] = std::min<hsize_t>(2, dims[0]);
  H5Pset_chunk(dcpl, static_cast<int>(dims.size()), chunk.data());
  H5Pset_deflate(dcpl, 6);
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t ds = H5Dcreate2(f, path.c_str(), H5T_IEEE_F64LE, space, lcpl, dcpl, H5P_DEFAULT);
  REQUIRE(ds >= 0);
  REQUIRE(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
  H5Dclose(ds);
  H5Sclose(space);
  H5Pclose(dcpl);
  H5Pclose(lcpl);
  H5Fclose(f);
}

std::string read_attribute(const std::string& file, const std::string& path, const std::string& name) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t ds = H5Dopen2(f, path.c_str(), H5P_DEFAULT);
  const hid_t a = H5Aopen(ds, name.c_str(), H5P_DEFAULT);
  const hid_t t = H5Aget_type(a);
  std::string s(H5Tget_size(t), '\0');
  H5Aread(a, t, &s[0]);
  H5Tclose(t);
  H5Aclose(a);
  H5Dclose(ds);
  H5Fclose(f);
  return s;
}

}  // namespace

TEST_CASE("HDF5: chunked gzip datasets stream equal to the in-memory values", "[array][hdf5]") {
  REQUIRE(has_hdf5());
  test::TempDir dir("hdf5");
  std::vector<double> v(7 * 5 * 4);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.25 * static_cast<double>(i) - 3;
  make_hdf5(dir.file("suite.h5"), "/sims/maps", v, {7, 5, 4});
  Tensor want({7, 5, 4});
  for (size_t i = 0; i < v.size(); ++i) want[static_cast<int64_t>(i)] = static_cast<float>(v[i]);
  for (int64_t chunk : {1, 3, 7}) require_equal(read_streamed(dir.file("suite.h5") + ":/sims/maps", chunk), want);
  REQUIRE_THAT(test::message_of<IoError>([&] { open_array(dir.file("suite.h5") + ":/sims/nope"); }),
               Catch::Contains("has no dataset '/sims/nope'"));
  REQUIRE_THAT(test::message_of<IoError>([&] { open_array(dir.file("suite.h5") + ":/sims"); }),
               Catch::Contains("not a dataset"));
  REQUIRE_THAT(test::message_of<IoError>([&] { open_array(dir.file("none.h5") + ":/x"); }),
               Catch::Contains("no such file"));
  { std::ofstream(dir.file("text.h5")) << "not hdf5"; }
  REQUIRE_THAT(test::message_of<IoError>([&] { open_array(dir.file("text.h5") + ":/x"); }),
               Catch::Contains("is not an HDF5 file"));
}

TEST_CASE("HDF5 writer: settings as attributes, next to existing data, resumable", "[array][hdf5][resume]") {
  test::TempDir dir("hdf5");
  const Tensor x = test::randn({9, 2, 3}, 8);
  std::vector<double> v(6, 1.0);
  make_hdf5(dir.file("suite.h5"), "/maps", v, {1, 2, 3});
  WriterOptions o;
  o.attributes = {{"method", "cd"}, {"transform", "fft2"}};
  o.gzip = 4;
  o.chunk_rows = 2;
  o.resume = true;
  o.keep_partial = true;
  const std::string spec = dir.file("suite.h5") + ":/results/cd";
  {
    auto w = create_array(spec, {9, 2, 3}, o);
    w->write(0, 4, x.data());
    w->write(6, 3, x.data() + 36);
    // Not visible under its final name before commit.
    REQUIRE_THROWS_AS(open_array(spec), IoError);
  }
  {
    auto w = create_array(spec, {9, 2, 3}, o);
    REQUIRE(w->finished() == std::vector<Rows>{{0, 4}, {6, 3}});
    std::vector<float> back(18);
    w->read_back(6, 3, back.data());
    REQUIRE(std::equal(back.begin(), back.end(), x.data() + 36));
    w->write(4, 2, x.data() + 24);
    w->commit();
  }
  require_equal(read_streamed(spec, 4), x);
  require_equal(read_streamed(dir.file("suite.h5") + ":/maps", 1), Tensor({1, 2, 3}, 1.0f));
  REQUIRE(read_attribute(dir.file("suite.h5"), "/results/cd", "method") == "cd");
  REQUIRE(read_attribute(dir.file("suite.h5"), "/results/cd", "transform") == "fft2");
  // A new file appears only on commit; a failed run removes it.
  {
    auto w = create_array(dir.file("new.h5") + ":/a", {2, 3});
    w->write(0, 1, x.data());
    REQUIRE(dir.entries().size() == 2);  // suite.h5, new.h5.partial
  }
  REQUIRE(dir.entries() == std::vector<std::string>{"suite.h5"});
  auto w = create_array(dir.file("new.h5") + ":/a", {2, 3});
  w->write(0, Tensor({2, 3}, 2.0f));
  w->commit();
  require_equal(read_streamed(dir.file("new.h5") + ":/a", 2), Tensor({2, 3}, 2.0f));
}
#endif

#ifdef TRIM_TEST_FITS
TEST_CASE("FITS: cubes and image extensions stream equal to the values written by cfitsio", "[array][fits]") {
  REQUIRE(has_fits());
  test::TempDir dir("fits");
  const std::string file = dir.file("maps.fits");
  // Primary HDU without data, extension 1 "MAPS" float cube [4, 3, 5]
  // (NAXIS1 = 5 fastest), extension 2 an int16 image with BSCALE/BZERO.
  fitsfile* f = nullptr;
  int status = 0;
  fits_create_file(&f, file.c_str(), &status);
  long none[1] = {0};
  fits_create_img(f, FLOAT_IMG, 0, none, &status);
  long cube[3] = {5, 3, 4};
  fits_create_img(f, FLOAT_IMG, 3, cube, &status);
  char extname[] = "MAPS";
  fits_update_key(f, TSTRING, "EXTNAME", extname, nullptr, &status);
  std::vector<float> v(60);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.5f * static_cast<float>(i) - 7;
  fits_write_img(f, TFLOAT, 1, 60, v.data(), &status);
  long img[2] = {3, 2};
  fits_create_img(f, SHORT_IMG, 2, img, &status);
  double bscale = 0.5, bzero = 10;
  fits_update_key(f, TDOUBLE, "BSCALE", &bscale, nullptr, &status);
  fits_update_key(f, TDOUBLE, "BZERO", &bzero, nullptr, &status);
  fits_set_bscale(f, 0.5, 10, &status);
  std::vector<float> w = {9, 9.5, 10, 10.5, 11, 11.5};
  fits_write_img(f, TFLOAT, 1, 6, w.data(), &status);
  fits_close_file(f, &status);
  REQUIRE(status == 0);

  const Tensor want({4, 3, 5}, v);
  require_equal(read_streamed(file, 1), want);  // first image extension with data
  require_equal(read_streamed(file + "[MAPS]", 3), want);
  require_equal(read_streamed(file + "[1]", 4), want);
  require_equal(read_streamed(file + "[2]", 1), Tensor({2, 3}, w));
  REQUIRE_THAT(test::message_of<IoError>([&] { open_array(file + "[NOPE]"); }), Catch::Contains("NOPE"));
  REQUIRE_THAT(test::message_of<IoError>([&] { open_array(dir.file("none.fits")); }), Catch::Contains("no such file"));
}
#endif
