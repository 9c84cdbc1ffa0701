// The format-independent half of dataset/array.hpp: spec parsing, range
// checks, the finished-rows bookkeeping, and dispatch to the formats.
#include "trim/dataset/array.hpp"

#include <algorithm>
#include <limits>

#include "formats.hpp"
#include "trim/core/error.hpp"

namespace trim::dataset {

namespace detail {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t checked_row_size(const std::vector<int64_t>& shape, const std::string& what) {
  if (shape.empty()) throw ValueError(what + ": a rank-0 array has no examples axis");
  if (shape[0] < 0) throw ValueError(what + ": negative example count in shape " + shape_text(shape));
  int64_t n = 1;
  for (size_t i = 1; i < shape.size(); ++i) {
    if (shape[i] <= 0)
      throw ValueError(what + ": shape " + shape_text(shape) + " has an empty per-example dimension");
    if (n > std::numeric_limits<int64_t>::max() / shape[i])
      throw ValueError(what + ": shape " + shape_text(shape) + " overflows");
    n *= shape[i];
  }
  if (shape[0] > 0 && n > std::numeric_limits<int64_t>::max() / shape[0])
    throw ValueError(what + ": shape " + shape_text(shape) + " overflows");
  return n;
}

}  // namespace detail

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

ArraySpec parse_array_spec(const std::string& spec) {
  ArraySpec a;
  a.text = spec;
  const std::string l = lower(spec);
  // HDF5: FILE.h5:/path (the first ".h5:" etc. ends the file name).
  for (const char* ext : {".h5:", ".hdf5:", ".he5:"}) {
    const size_t at = l.find(ext);
    if (at != std::string::npos) {
      a.format = Format::Hdf5;
      a.file = spec.substr(0, at + std::string(ext).size() - 1);
      a.inner = spec.substr(at + std::string(ext).size());
      if (a.inner.empty() || a.inner[0] != '/')
        throw ValueError("array '" + spec + "': the HDF5 dataset path after ':' must start with '/' (FILE.h5:/group/dataset)");
      return a;
    }
  }
  for (const char* ext : {".h5", ".hdf5", ".he5"})
    if (ends_with(l, ext))
      throw ValueError("array '" + spec + "': name the dataset inside the HDF5 file, as in " + spec + ":/maps");
  for (const char* ext : {".fits", ".fit", ".fts", ".fits.gz", ".fits.fz"}) {
    const size_t at = l.find(std::string(ext) + "[");
    if (ends_with(l, ext) || (at != std::string::npos && ends_with(l, "]"))) {
      a.format = Format::Fits;
      if (at != std::string::npos) {
        a.file = spec.substr(0, at + std::string(ext).size());
        a.inner = spec.substr(a.file.size() + 1, spec.size() - a.file.size() - 2);
      } else {
        a.file = spec;
      }
      return a;
    }
  }
  if (ends_with(l, ".npy")) {
    a.format = Format::Npy;
    a.file = spec;
    return a;
  }
  throw ValueError("array '" + spec +
                   "': unknown format (expected FILE.npy, FILE.h5:/path/to/dataset or FILE.fits[EXT])");
}

ArrayReader::ArrayReader(std::string spec, std::vector<int64_t> shape)
    : spec_(std::move(spec)), shape_(std::move(shape)) {
  row_size_ = detail::checked_row_size(shape_, "array '" + spec_ + "'");
}

void ArrayReader::read_into(int64_t first, int64_t count, float* out) {
  if (first < 0 || count < 0 || first > rows() || count > rows() - first)
    throw ValueError("array '" + spec_ + "': rows [" + std::to_string(first) + ", " + std::to_string(first + count) +
                     ") are outside its " + std::to_string(rows()) + " examples");
  if (count > 0) do_read(first, count, out);
}

Tensor ArrayReader::read(int64_t first, int64_t count) {
  std::vector<int64_t> s = shape_;
  s[0] = std::max<int64_t>(count, 0);
  if (static_cast<int>(s.size()) > Shape::max_rank)
    throw ValueError("array '" + spec_ + "': rank " + std::to_string(s.size()) + " exceeds trim's maximum rank " +
                     std::to_string(Shape::max_rank));
  Tensor t{Shape(s)};
  read_into(first, count, t.data());
  return t;
}

std::unique_ptr<ArrayReader> open_array(const std::string& spec) {
  const ArraySpec a = parse_array_spec(spec);
  switch (a.format) {
    case Format::Npy: return detail::open_npy(a);
    case Format::Hdf5: return detail::open_hdf5(a);
    case Format::Fits: return detail::open_fits(a);
  }
  throw ValueError("array '" + spec + "': unknown format");
}

void add_rows(std::vector<Rows>& list, Rows r) {
  if (r.count <= 0) return;
  list.push_back(r);
  std::sort(list.begin(), list.end(), [](const Rows& a, const Rows& b) { return a.first < b.first; });
  std::vector<Rows> merged;
  for (const Rows& x : list) {
    if (!merged.empty() && x.first <= merged.back().end()) {
      merged.back().count = std::max(merged.back().end(), x.end()) - merged.back().first;
    } else {
      merged.push_back(x);
    }
  }
  list = std::move(merged);
}

std::string writer_fingerprint(const std::vector<int64_t>& shape, const WriterOptions& options) {
  std::string s = "trim-dataset-writer 1 float32 shape " + detail::shape_text(shape);
  for (const auto& kv : options.attributes) s += "\n" + kv.first + "=" + kv.second;
  // Newlines inside values would break the line-based progress file.
  for (char& c : s)
    if (c == '\r') c = ' ';
  return s;
}

ArrayWriter::ArrayWriter(std::string spec, std::vector<int64_t> shape)
    : spec_(std::move(spec)), shape_(std::move(shape)) {
  row_size_ = detail::checked_row_size(shape_, "array '" + spec_ + "'");
}

void ArrayWriter::write(int64_t first, int64_t count, const float* data) {
  if (committed_) throw ValueError("array '" + spec_ + "': write after commit()");
  if (first < 0 || count < 0 || first > rows() || count > rows() - first)
    throw ValueError("array '" + spec_ + "': rows [" + std::to_string(first) + ", " + std::to_string(first + count) +
                     ") are outside its " + std::to_string(rows()) + " examples");
  if (count == 0) return;
  do_write(first, count, data);
  std::vector<Rows> next = finished_;
  add_rows(next, {first, count});
  do_record({first, count}, next);
  finished_ = std::move(next);
}

void ArrayWriter::write(int64_t first, const Tensor& block) {
  const int64_t count = block.rank() == 0 ? 0 : block.dim(0);
  std::vector<int64_t> want = shape_;
  want[0] = count;
  if (block.shape().to_vector() != want)
    throw ShapeError("array '" + spec_ + "': block of shape " + block.shape().str() + ", expected " +
                     detail::shape_text(want));
  write(first, count, block.data());
}

bool ArrayWriter::is_finished(Rows r) const {
  if (r.count <= 0) return true;
  for (const Rows& f : finished_)
    if (f.first <= r.first && r.end() <= f.end()) return true;
  return false;
}

void ArrayWriter::read_back(int64_t first, int64_t count, float* out) {
  if (committed_) throw ValueError("array '" + spec_ + "': read_back after commit() (open the result instead)");
  if (!is_finished({first, count}))
    throw ValueError("array '" + spec_ + "': rows [" + std::to_string(first) + ", " + std::to_string(first + count) +
                     ") are not all written yet");
  if (count > 0) do_read_back(first, count, out);
}

bool ArrayWriter::complete() const { return is_finished({0, rows()}); }

void ArrayWriter::commit() {
  if (committed_) return;
  if (!complete()) {
    int64_t missing = rows();
    for (const Rows& f : finished_) missing -= f.count;
    throw IoError("array '" + spec_ + "': cannot commit, " + std::to_string(missing) + " of " +
                  std::to_string(rows()) + " examples were never written");
  }
  do_commit();
  committed_ = true;
}

void ArrayWriter::set_finished(std::vector<Rows> rows) {
  finished_.clear();
  for (const Rows& r : rows) add_rows(finished_, r);
}

std::unique_ptr<ArrayWriter> create_array(const std::string& spec, const std::vector<int64_t>& shape,
                                          const WriterOptions& options) {
  const ArraySpec a = parse_array_spec(spec);
  detail::checked_row_size(shape, "array '" + spec + "'");
  if (options.gzip < 0 || options.gzip > 9)
    throw ValueError("array '" + spec + "': gzip level " + std::to_string(options.gzip) + " is outside 0-9");
  if (options.chunk_rows < 0) throw ValueError("array '" + spec + "': negative chunk_rows");
  switch (a.format) {
    case Format::Npy: return detail::create_npy(a, shape, options);
    case Format::Hdf5: return detail::create_hdf5(a, shape, options);
    case Format::Fits:
      throw ValueError("array '" + spec + "': FITS output is not supported; write .npy or FILE.h5:/path");
  }
  throw ValueError("array '" + spec + "': unknown format");
}

}  // namespace trim::dataset
