// NumPy .npy reading and writing.
//
// Format (numpy/lib/format.py): magic "\x93NUMPY", major, minor, header length
// (uint16 LE for version 1, uint32 LE for 2 and 3), then a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } padded with
// spaces and a final '\n', then the raw data. Nothing in the header is
// trusted: every length is checked against the file size before anything is
// allocated, and the data must fill the rest of the file exactly.
#include "trim/io/npy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "trim/core/error.hpp"

namespace trim::io {

namespace detail {
void write_file_atomic(const std::string& path, const std::string& bytes, const std::string& what);
}

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
/// NumPy's own limit on the number of dimensions (numpy >= 2 allows 64).
constexpr int kMaxDims = 64;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw IoError("npy '" + path + "': " + problem);
}

struct TypeInfo {
  NpyType type;
  char kind;  // 'b', 'i', 'u', 'f'
  int size;
};

const TypeInfo kTypes[] = {
    {NpyType::Bool, 'b', 1},    {NpyType::Int8, 'i', 1},    {NpyType::Int16, 'i', 2},
    {NpyType::Int32, 'i', 4},   {NpyType::Int64, 'i', 8},   {NpyType::UInt8, 'u', 1},
    {NpyType::UInt16, 'u', 2},  {NpyType::UInt32, 'u', 4},  {NpyType::UInt64, 'u', 8},
    {NpyType::Float32, 'f', 4}, {NpyType::Float64, 'f', 8},
};

const TypeInfo& info(NpyType t) {
  for (const TypeInfo& i : kTypes)
    if (i.type == t) return i;
  throw ValueError("npy: unknown element type");
}

/// What the header says, validated.
struct Header {
  NpyType type = NpyType::Float64;
  int itemsize = 8;
  bool big_endian = false;
  bool fortran = false;
  std::vector<int64_t> shape;
  int64_t numel = 1;
  uint64_t data_offset = 0;
};

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) >= 127) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "'";
}

// ---- header dict parser ------------------------------------------------------------
// A strict parser for the one dict literal NumPy writes: string keys, values
// that are strings, True/False or tuples of non-negative integers.

class DictParser {
 public:
  DictParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  Header parse() {
    Header h;
    bool have_descr = false, have_order = false, have_shape = false;
    skip_ws();
    expect('{');
    skip_ws();
    while (peek() != '}') {
      const std::string key = parse_string("a key");
      skip_ws();
      expect(':');
      skip_ws();
      if (key == "descr") {
        if (have_descr) fail(path_, "header has 'descr' twice");
        have_descr = true;
        if (peek() == '[') fail(path_, "structured dtypes (descr is a list) are not supported");
        parse_descr(parse_string("the 'descr' value"), h);
      } else if (key == "fortran_order") {
        if (have_order) fail(path_, "header has 'fortran_order' twice");
        have_order = true;
        h.fortran = parse_bool();
      } else if (key == "shape") {
        if (have_shape) fail(path_, "header has 'shape' twice");
        have_shape = true;
        h.shape = parse_shape();
      } else {
        fail(path_, "header has unexpected key " + quote(key) +
                        " (expected only 'descr', 'fortran_order' and 'shape')");
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        skip_ws();
      } else if (peek() != '}') {
        fail(path_, "header dict: expected ',' or '}' at offset " + std::to_string(pos_));
      }
    }
    ++pos_;
    skip_ws();
    if (pos_ != s_.size()) fail(path_, "header has trailing characters after the dict");
    if (!have_descr) fail(path_, "header lacks 'descr'");
    if (!have_order) fail(path_, "header lacks 'fortran_order'");
    if (!have_shape) fail(path_, "header lacks 'shape'");
    return h;
  }

 private:
  char peek() const {
    if (pos_ >= s_.size()) fail(path_, "header dict ends early (no closing '}')");
    return s_[pos_];
  }
  void expect(char c) {
    if (peek() != c)
      fail(path_, std::string("header dict: expected '") + c + "' at offset " + std::to_string(pos_) +
                      ", found " + quote(std::string(1, s_[pos_])));
    ++pos_;
  }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  std::string parse_string(const char* what) {
    const char q = peek();
    if (q != '\'' && q != '"') fail(path_, std::string("header dict: expected a string for ") + what);
    ++pos_;
    std::string out;
    while (peek() != q) {
      if (s_[pos_] == '\\') fail(path_, "header dict: escapes in strings are not supported");
      out += s_[pos_++];
      if (out.size() > 64) fail(path_, std::string("header dict: string for ") + what + " is too long");
    }
    ++pos_;
    return out;
  }
  bool parse_bool() {
    if (s_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (s_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    fail(path_, "header: 'fortran_order' must be True or False");
  }
  std::vector<int64_t> parse_shape() {
    std::vector<int64_t> shape;
    expect('(');
    skip_ws();
    while (peek() != ')') {
      if (peek() == '-') fail(path_, "header: negative dimension in 'shape'");
      if (!std::isdigit(static_cast<unsigned char>(peek())))
        fail(path_, "header: 'shape' must be a tuple of integers");
      int64_t d = 0;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
        const int digit = s_[pos_++] - '0';
        if (d > (std::numeric_limits<int64_t>::max() - digit) / 10)
          fail(path_, "header: a dimension in 'shape' overflows 64 bits");
        d = d * 10 + digit;
      }
      if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;  // Python 2 long suffix
      shape.push_back(d);
      if (static_cast<int>(shape.size()) > kMaxDims)
        fail(path_, "header: 'shape' has more than " + std::to_string(kMaxDims) + " dimensions");
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        skip_ws();
      } else if (peek() != ')') {
        fail(path_, "header: 'shape' must be a tuple of integers");
      }
    }
    ++pos_;
    return shape;
  }
  void parse_descr(const std::string& d, Header& h) {
    if (d.size() < 2) fail(path_, "unsupported dtype " + quote(d));
    const char order = d[0];
    const std::string rest = d.substr(1);
    if (d == "O" || d == "|O" || d.find('O') != std::string::npos)
      fail(path_, "object arrays (dtype " + quote(d) + ") are not supported: they hold pickled Python objects");
    if (order != '<' && order != '>' && order != '|' && order != '=')
      fail(path_, "unsupported dtype " + quote(d) + " (expected a byte-order mark '<', '>' or '|')");
    const char kind = rest[0];
    int size = 0;
    for (size_t i = 1; i < rest.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(rest[i])) || size > 1000)
        fail(path_, "unsupported dtype " + quote(d));
      size = size * 10 + (rest[i] - '0');
    }
    const TypeInfo* found = nullptr;
    for (const TypeInfo& t : kTypes)
      if (t.kind == kind && t.size == size) found = &t;
    if (!found)
      fail(path_, "unsupported dtype " + quote(d) +
                      " (supported: bool, int8-64, uint8-64, float32, float64)");
    if (order == '=')
      fail(path_, "dtype " + quote(d) + " has native byte order '='; expected '<' (little endian)");
    if (size > 1 && order == '|')
      fail(path_, "dtype " + quote(d) + " has no byte order for a " + std::to_string(size) + "-byte type");
    h.type = found->type;
    h.itemsize = found->size;
    h.big_endian = order == '>';
  }

  const std::string& s_;
  const std::string& path_;
  size_t pos_ = 0;
};

// ---- file access -----------------------------------------------------------------

/// An open file with its size; reads exactly what is asked or fails naming the path.
class InFile {
 public:
  explicit InFile(const std::string& path) : path_(path) {
    // An ifstream opens a directory without complaint and reports a huge size.
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) fail(path_, "is a directory, not a .npy file");
    in_.open(path, std::ios::binary);
    if (!in_) fail(path_, std::string("cannot open for reading (") + std::strerror(errno) + ")");
    in_.seekg(0, std::ios::end);
    const std::streamoff end = in_.tellg();
    if (end < 0) fail(path_, "cannot determine the file size");
    size_ = static_cast<uint64_t>(end);
    in_.seekg(0, std::ios::beg);
  }
  uint64_t size() const { return size_; }
  void read(void* dst, uint64_t n, const char* what) {
    in_.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
    if (static_cast<uint64_t>(in_.gcount()) != n) fail(path_, std::string("read error in ") + what);
  }

 private:
  std::string path_;
  std::ifstream in_;
  uint64_t size_ = 0;
};

uint64_t load_le(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t load_be(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

std::string shape_tuple(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) s += ",";
  return s + ")";
}

Header read_header(InFile& f, const std::string& path) {
  if (f.size() < kMagicLen + 2)
    fail(path, "file is " + std::to_string(f.size()) + " bytes, too short for a .npy header");
  unsigned char pre[kMagicLen + 2];
  f.read(pre, sizeof pre, "the magic string");
  if (std::memcmp(pre, kMagic, kMagicLen) != 0) fail(path, "bad magic string: not a .npy file");
  const int major = pre[kMagicLen], minor = pre[kMagicLen + 1];
  if (major < 1 || major > 3 || minor != 0)
    fail(path, "unsupported format version " + std::to_string(major) + "." + std::to_string(minor) +
                   " (expected 1.0, 2.0 or 3.0)");
  const int len_bytes = major == 1 ? 2 : 4;
  if (f.size() < kMagicLen + 2 + static_cast<uint64_t>(len_bytes))
    fail(path, "file ends inside the header length field");
  unsigned char lenbuf[4];
  f.read(lenbuf, static_cast<uint64_t>(len_bytes), "the header length");
  const uint64_t header_len = load_le(lenbuf, len_bytes);
  const uint64_t prefix = kMagicLen + 2 + static_cast<uint64_t>(len_bytes);
  if (header_len > f.size() - prefix)
    fail(path, "header length " + std::to_string(header_len) + " exceeds the " +
                   std::to_string(f.size() - prefix) + " bytes left in the file (truncated?)");
  if (header_len > (uint64_t{1} << 20)) fail(path, "header of " + std::to_string(header_len) + " bytes is absurdly long");
  std::string text(static_cast<size_t>(header_len), '\0');
  f.read(&text[0], header_len, "the header");
  if (text.empty() || text.back() != '\n') fail(path, "header does not end with a newline");
  if (major < 3)
    for (char c : text)
      if (static_cast<unsigned char>(c) >= 128)
        fail(path, "header of a version " + std::to_string(major) + " file is not ASCII");
  Header h = DictParser(text, path).parse();
  h.data_offset = prefix + header_len;

  // Sizes: overflow-checked product, then the data must fill the file exactly.
  int64_t numel = 1;
  for (int64_t d : h.shape) {
    if (d != 0 && numel > std::numeric_limits<int64_t>::max() / d)
      fail(path, "shape " + shape_tuple(h.shape) + " has more elements than fit in 64 bits");
    numel *= d;
  }
  h.numel = numel;
  const uint64_t avail = f.size() - h.data_offset;
  const uint64_t n = static_cast<uint64_t>(numel), isz = static_cast<uint64_t>(h.itemsize);
  const bool fits = n <= avail / isz;
  if (!fits || n * isz != avail)
    fail(path, "shape " + shape_tuple(h.shape) + " of " + npy_descr(h.type) + " needs " +
                   (fits ? std::to_string(n * isz) + " data bytes" : std::string("more data bytes than the file holds")) +
                   ", but " + std::to_string(avail) + " bytes follow the header" +
                   (fits ? " (extra bytes after the data: the shape in the header is wrong)"
                         : " (truncated file, or the shape in the header is wrong)"));
  return h;
}

/// Decodes `n` elements of the header's type into doubles; returns the index
/// of the first 64-bit integer a double cannot hold exactly (beyond ±2^53), or -1.
int64_t decode(const Header& h, const unsigned char* p, int64_t n, double* out) {
  const int sz = h.itemsize;
  constexpr uint64_t kExact = uint64_t{1} << 53;
  int64_t inexact = -1;
  for (int64_t i = 0; i < n; ++i, p += sz) {
    const uint64_t bits = h.big_endian ? load_be(p, sz) : load_le(p, sz);
    switch (h.type) {
      case NpyType::Bool: out[i] = bits != 0 ? 1.0 : 0.0; break;
      case NpyType::Int8: out[i] = static_cast<int8_t>(bits); break;
      case NpyType::Int16: out[i] = static_cast<int16_t>(bits); break;
      case NpyType::Int32: out[i] = static_cast<int32_t>(bits); break;
      case NpyType::Int64: {
        const int64_t v = static_cast<int64_t>(bits);
        const uint64_t mag = v < 0 ? uint64_t{0} - bits : bits;
        if (mag > kExact && inexact < 0) inexact = i;
        out[i] = static_cast<double>(v);
        break;
      }
      case NpyType::UInt64:
        if (bits > kExact && inexact < 0) inexact = i;
        out[i] = static_cast<double>(bits);
        break;
      case NpyType::UInt8:
      case NpyType::UInt16:
      case NpyType::UInt32: out[i] = static_cast<double>(bits); break;
      case NpyType::Float32: {
        const uint32_t b32 = static_cast<uint32_t>(bits);
        float f;
        std::memcpy(&f, &b32, 4);
        out[i] = f;
        break;
      }
      case NpyType::Float64: {
        double d;
        std::memcpy(&d, &bits, 8);
        out[i] = d;
        break;
      }
    }
  }
  return inexact;
}

/// Reads the data in chunks, decoding each element into `out` (doubles) in
/// file order. `check(values, n, offset, first_inexact)` runs on every decoded
/// chunk (range checks).
template <class Check>
void read_values(InFile& f, const Header& h, std::vector<double>& out, Check check) {
  out.resize(static_cast<size_t>(h.numel));
  constexpr int64_t chunk = 1 << 16;
  std::vector<unsigned char> buf(static_cast<size_t>(std::min<int64_t>(chunk, std::max<int64_t>(h.numel, 1)) * h.itemsize));
  for (int64_t done = 0; done < h.numel;) {
    const int64_t m = std::min(chunk, h.numel - done);
    f.read(buf.data(), static_cast<uint64_t>(m * h.itemsize), "the data");
    const int64_t inexact = decode(h, buf.data(), m, out.data() + done);
    check(out.data() + done, m, done, inexact);
    done += m;
  }
}

/// Fortran (column-major) order to C (row-major) order.
template <class T>
std::vector<T> fortran_to_c(const std::vector<T>& f, const std::vector<int64_t>& shape) {
  const size_t r = shape.size();
  if (r < 2) return f;
  std::vector<int64_t> fstride(r);
  int64_t s = 1;
  for (size_t k = 0; k < r; ++k) {
    fstride[k] = s;
    s *= shape[k];
  }
  std::vector<T> c(f.size());
  std::vector<int64_t> idx(r, 0);
  int64_t off = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    c[i] = f[static_cast<size_t>(off)];
    for (size_t k = r; k-- > 0;) {
      if (++idx[k] < shape[k]) {
        off += fstride[k];
        break;
      }
      off -= (shape[k] - 1) * fstride[k];
      idx[k] = 0;
    }
  }
  return c;
}

/// Header bytes (magic to newline) for a C-order array, version 1.0, or 2.0
/// when the dict would not fit a 16-bit length.
std::string make_header(const std::string& descr, const std::vector<int64_t>& shape) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape_tuple(shape) + ", }";
  const bool v2 = dict.size() + 1 + 12 > 65535;
  const size_t prefix = kMagicLen + 2 + (v2 ? 4 : 2);
  size_t total = prefix + dict.size() + 1;
  const size_t padded = (total + 63) / 64 * 64;
  dict.append(padded - total, ' ');
  dict += '\n';
  std::string out(kMagic, kMagicLen);
  out += static_cast<char>(v2 ? 2 : 1);
  out += '\0';
  const uint64_t len = dict.size();
  for (int i = 0; i < (v2 ? 4 : 2); ++i) out += static_cast<char>((len >> (8 * i)) & 0xff);
  return out + dict;
}

void append_le(std::string& out, uint64_t bits, int n) {
  for (int i = 0; i < n; ++i) out += static_cast<char>((bits >> (8 * i)) & 0xff);
}

}  // namespace

namespace detail {

/// Writes `bytes` to a fresh temporary file next to `path`, flushes it to
/// disk and renames it into place, so readers see the old file or the new
/// one, never a partial one.
void write_file_atomic(const std::string& path, const std::string& bytes, const std::string& what) {
  static std::atomic<unsigned> counter{0};
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    throw IoError(what + " '" + path + "': cannot create a temporary file next to it (" + std::strerror(errno) + ")");
  const char* p = bytes.data();
  size_t left = bytes.size();
  int err = 0;
  while (left > 0) {
    const ssize_t w = ::write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
  if (!err && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && !err) err = errno;
  if (!err && std::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err) {
    std::remove(tmp.c_str());
    throw IoError(what + " '" + path + "': write failed (" + std::strerror(err) + ")");
  }
}

}  // namespace detail

std::string npy_descr(NpyType type) {
  const TypeInfo& i = info(type);
  if (i.size == 1) return std::string("|") + i.kind + "1";
  return std::string("<") + i.kind + std::to_string(i.size);
}

NpyHeader read_npy_header(const std::string& path) {
  InFile f(path);
  const Header h = read_header(f, path);
  NpyHeader out;
  out.shape = h.shape;
  out.type = h.type;
  out.itemsize = h.itemsize;
  out.big_endian = h.big_endian;
  out.fortran_order = h.fortran;
  out.data_offset = h.data_offset;
  return out;
}

std::string npy_header_bytes(const std::string& descr, const std::vector<int64_t>& shape) {
  return make_header(descr, shape);
}

NpyArray read_npy_array(const std::string& path) {
  InFile f(path);
  const Header h = read_header(f, path);
  NpyArray a;
  a.shape = h.shape;
  a.type = h.type;
  read_values(f, h, a.values, [&](const double*, int64_t, int64_t at, int64_t inexact) {
    if (inexact >= 0)
      fail(path, "element " + std::to_string(at + inexact) + " of the " + npy_descr(h.type) +
                     " array exceeds 2^53 in magnitude and cannot be represented exactly as a double");
  });
  if (h.fortran) a.values = fortran_to_c(a.values, a.shape);
  return a;
}

Tensor read_npy(const std::string& path) {
  InFile f(path);
  const Header h = read_header(f, path);
  if (static_cast<int>(h.shape.size()) > Shape::max_rank)
    fail(path, "array of rank " + std::to_string(h.shape.size()) + " " + shape_tuple(h.shape) +
                   " exceeds trim's maximum rank " + std::to_string(Shape::max_rank));
  Shape shape = h.shape.empty() ? Shape{1} : Shape(h.shape);
  Tensor t(shape);
  if (h.type == NpyType::Float32 && !h.big_endian && !h.fortran) {
    // Fast path: read the bytes straight into the tensor, then fix the byte order.
    f.read(t.data(), static_cast<uint64_t>(h.numel) * 4, "the data");
    uint32_t probe = 1;
    unsigned char first;
    std::memcpy(&first, &probe, 1);
    if (first != 1) {  // big-endian host
      auto* b = reinterpret_cast<unsigned char*>(t.data());
      for (int64_t i = 0; i < h.numel; ++i) std::reverse(b + 4 * i, b + 4 * i + 4);
    }
    return t;
  }
  std::vector<double> v;
  read_values(f, h, v, [&](const double* x, int64_t n, int64_t at, int64_t) {
    for (int64_t i = 0; i < n; ++i)
      if (std::isfinite(x[i]) && std::fabs(x[i]) > static_cast<double>(FLT_MAX))
        fail(path, "element " + std::to_string(at + i) + " (" + std::to_string(x[i]) +
                       ") is outside float32's range");
  });
  if (h.fortran) v = fortran_to_c(v, h.shape);
  for (int64_t i = 0; i < h.numel; ++i) t[i] = static_cast<float>(v[static_cast<size_t>(i)]);
  return t;
}

void write_npy(const std::string& path, const Tensor& t) {
  std::vector<int64_t> shape = t.shape().to_vector();
  if (t.numel() == 0 && shape.empty()) shape = {0};  // an empty Tensor() is not a scalar
  std::string bytes = make_header("<f4", shape);
  bytes.reserve(bytes.size() + static_cast<size_t>(t.numel()) * 4);
  for (int64_t i = 0; i < t.numel(); ++i) {
    uint32_t b;
    const float v = t[i];
    std::memcpy(&b, &v, 4);
    append_le(bytes, b, 4);
  }
  detail::write_file_atomic(path, bytes, "npy");
}

void write_npy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<double>& values) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw ValueError("npy '" + path + "': negative dimension in shape " + shape_tuple(shape));
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      throw ValueError("npy '" + path + "': shape " + shape_tuple(shape) + " overflows");
    n *= d;
  }
  if (static_cast<uint64_t>(n) != values.size())
    throw ValueError("npy '" + path + "': shape " + shape_tuple(shape) + " has " + std::to_string(n) +
                     " elements but " + std::to_string(values.size()) + " values were given");
  std::string bytes = make_header("<f8", shape);
  bytes.reserve(bytes.size() + values.size() * 8);
  for (double v : values) {
    uint64_t b;
    std::memcpy(&b, &v, 8);
    append_le(bytes, b, 8);
  }
  detail::write_file_atomic(path, bytes, "npy");
}

}  // namespace trim::io
