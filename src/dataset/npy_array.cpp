// `.npy` arrays for dataset/array.hpp: a memory-mapped reader that drops the
// pages it has read (so resident memory stays at one chunk whatever the file
// size), and a writer that fills a pre-sized partial file with pwrite and
// appends each finished range to a small progress file next to it.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "formats.hpp"
#include "trim/core/error.hpp"
#include "trim/io/npy.hpp"

namespace trim::dataset::detail {

namespace {

bool host_is_little_endian() {
  const uint32_t probe = 1;
  unsigned char first;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

uint64_t load(const unsigned char* p, int n, bool big) {
  uint64_t v = 0;
  if (big)
    for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  else
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string errno_text() { return std::strerror(errno); }

class NpyReader final : public ArrayReader {
 public:
  NpyReader(const std::string& spec, io::NpyHeader h, int fd, unsigned char* map, size_t map_size)
      : ArrayReader(spec, h.shape), h_(std::move(h)), fd_(fd), map_(map), map_size_(map_size) {}
  ~NpyReader() override {
    if (map_) ::munmap(map_, map_size_);
    ::close(fd_);
  }

 protected:
  void do_read(int64_t first, int64_t count, float* out) override {
    const int64_t n = count * row_size();
    const size_t isz = static_cast<size_t>(h_.itemsize);
    const unsigned char* p = map_ + h_.data_offset + static_cast<size_t>(first * row_size()) * isz;
    if (h_.type == io::NpyType::Float32 && !h_.big_endian && host_is_little_endian()) {
      std::memcpy(out, p, static_cast<size_t>(n) * 4);
    } else {
      for (int64_t i = 0; i < n; ++i, p += isz) {
        const uint64_t bits = load(p, h_.itemsize, h_.big_endian);
        double v = 0;
        switch (h_.type) {
          case io::NpyType::Bool: v = bits != 0; break;
          case io::NpyType::Int8: v = static_cast<int8_t>(bits); break;
          case io::NpyType::Int16: v = static_cast<int16_t>(bits); break;
          case io::NpyType::Int32: v = static_cast<int32_t>(bits); break;
          case io::NpyType::Int64: v = static_cast<double>(static_cast<int64_t>(bits)); break;
          case io::NpyType::UInt8:
          case io::NpyType::UInt16:
          case io::NpyType::UInt32:
          case io::NpyType::UInt64: v = static_cast<double>(bits); break;
          case io::NpyType::Float32: {
            const uint32_t b = static_cast<uint32_t>(bits);
            float f;
            std::memcpy(&f, &b, 4);
            v = f;
            break;
          }
          case io::NpyType::Float64: std::memcpy(&v, &bits, 8); break;
        }
        if (std::isfinite(v) && std::fabs(v) > static_cast<double>(FLT_MAX))
          throw IoError("npy '" + spec() + "': element " + std::to_string(first * row_size() + i) + " (" +
                        std::to_string(v) + ") is outside float32's range");
        out[i] = static_cast<float>(v);
      }
    }
    // Drop the pages just read from this process's mapping: they stay in the
    // page cache (no extra I/O when read again) but leave its resident set.
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    const size_t begin = h_.data_offset + static_cast<size_t>(first * row_size()) * isz;
    const size_t end = begin + static_cast<size_t>(n) * isz;
    const size_t b = begin / page * page, e = std::min(map_size_, (end + page - 1) / page * page);
    if (e > b) ::madvise(map_ + b, e - b, MADV_DONTNEED);
  }

 private:
  io::NpyHeader h_;
  int fd_;
  unsigned char* map_;
  size_t map_size_;
};

/// Escapes newlines so the fingerprint is one line of the progress file.
std::string one_line(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void write_all(int fd, const char* p, size_t n, off_t at, const std::string& what) {
  while (n > 0) {
    const ssize_t w = at >= 0 ? ::pwrite(fd, p, n, at) : ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw IoError(what + ": write failed (" + errno_text() + ")");
    }
    p += w;
    n -= static_cast<size_t>(w);
    if (at >= 0) at += w;
  }
}

class NpyWriter final : public ArrayWriter {
 public:
  NpyWriter(const ArraySpec& spec, const std::vector<int64_t>& shape, const WriterOptions& options)
      : ArrayWriter(spec.text, shape),
        final_(spec.file),
        partial_(spec.file + ".partial"),
        progress_(spec.file + ".partial.progress"),
        options_(options) {
    if (!host_is_little_endian()) throw IoError("npy '" + final_ + "': writing needs a little-endian host");
    header_ = io::npy_header_bytes("<f4", shape);
    const uint64_t total = header_.size() + static_cast<uint64_t>(rows() * row_size()) * 4;
    const std::string fingerprint = one_line(writer_fingerprint(shape, options));
    if (options.resume && try_resume(fingerprint, total)) return;
    std::remove(partial_.c_str());
    std::remove(progress_.c_str());
    fd_ = ::open(partial_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw IoError("npy '" + final_ + "': cannot create '" + partial_ + "' (" + errno_text() + ")");
    try {
      write_all(fd_, header_.data(), header_.size(), 0, "npy '" + partial_ + "'");
      if (::ftruncate(fd_, static_cast<off_t>(total)) != 0)
        throw IoError("npy '" + partial_ + "': cannot size it to " + std::to_string(total) + " bytes (" +
                      errno_text() + ")");
      open_progress(O_CREAT | O_TRUNC);
      const std::string line = fingerprint + "\n";
      write_all(progress_fd_, line.data(), line.size(), -1, "npy progress '" + progress_ + "'");
      if (options_.sync) ::fdatasync(progress_fd_);
    } catch (...) {
      cleanup();
      throw;
    }
  }

  ~NpyWriter() override {
    if (!committed()) {
      if (options_.keep_partial) close_files();
      else cleanup();
    }
  }

 protected:
  void do_write(int64_t first, int64_t count, const float* data) override {
    const off_t at = static_cast<off_t>(header_.size() + static_cast<uint64_t>(first * row_size()) * 4);
    write_all(fd_, reinterpret_cast<const char*>(data), static_cast<size_t>(count * row_size()) * 4, at,
              "npy '" + partial_ + "'");
  }

  void do_record(Rows r, const std::vector<Rows>&) override {
    if (options_.sync && ::fdatasync(fd_) != 0)
      throw IoError("npy '" + partial_ + "': flushing to disk failed (" + errno_text() + ")");
    const std::string line = std::to_string(r.first) + " " + std::to_string(r.count) + "\n";
    write_all(progress_fd_, line.data(), line.size(), -1, "npy progress '" + progress_ + "'");
    if (options_.sync) ::fdatasync(progress_fd_);
  }

  void do_read_back(int64_t first, int64_t count, float* out) override {
    char* p = reinterpret_cast<char*>(out);
    size_t left = static_cast<size_t>(count * row_size()) * 4;
    off_t at = static_cast<off_t>(header_.size() + static_cast<uint64_t>(first * row_size()) * 4);
    while (left > 0) {
      const ssize_t r = ::pread(fd_, p, left, at);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) throw IoError("npy '" + partial_ + "': reading back failed (" + errno_text() + ")");
      p += r;
      at += r;
      left -= static_cast<size_t>(r);
    }
  }

  void do_commit() override {
    if (::fsync(fd_) != 0) throw IoError("npy '" + partial_ + "': flushing to disk failed (" + errno_text() + ")");
    close_files();
    if (std::rename(partial_.c_str(), final_.c_str()) != 0)
      throw IoError("npy '" + final_ + "': cannot move '" + partial_ + "' into place (" + errno_text() + ")");
    std::remove(progress_.c_str());
  }

 private:
  void open_progress(int flags) {
    progress_fd_ = ::open(progress_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | flags, 0644);
    if (progress_fd_ < 0)
      throw IoError("npy '" + final_ + "': cannot open the progress file '" + progress_ + "' (" + errno_text() + ")");
  }

  /// Reopens a partial file whose progress matches; false when there is
  /// none or it belongs to another run (then the caller starts fresh).
  bool try_resume(const std::string& fingerprint, uint64_t total) {
    std::ifstream in(progress_, std::ios::binary);
    if (!in) return false;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t nl = text.find('\n');
    if (nl == std::string::npos || text.substr(0, nl) != fingerprint) return false;
    struct stat st {};
    if (::stat(partial_.c_str(), &st) != 0 || static_cast<uint64_t>(st.st_size) != total) return false;
    std::vector<Rows> done;
    size_t pos = nl + 1;
    while (true) {
      const size_t end = text.find('\n', pos);
      if (end == std::string::npos) break;  // a line cut by the kill: not recorded
      std::istringstream line(text.substr(pos, end - pos));
      Rows r;
      if (!(line >> r.first >> r.count) || r.first < 0 || r.count < 0 || r.first > rows() || r.count > rows() - r.first)
        return false;
      add_rows(done, r);
      pos = end + 1;
    }
    fd_ = ::open(partial_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0) return false;
    // Drop a torn last line so appends start on a fresh one.
    if (pos != text.size() && ::truncate(progress_.c_str(), static_cast<off_t>(pos)) != 0) {
      ::close(fd_);
      fd_ = -1;
      return false;
    }
    open_progress(0);
    set_finished(done);
    return true;
  }

  void close_files() {
    if (fd_ >= 0) ::close(fd_);
    if (progress_fd_ >= 0) ::close(progress_fd_);
    fd_ = progress_fd_ = -1;
  }
  void cleanup() {
    close_files();
    std::remove(partial_.c_str());
    std::remove(progress_.c_str());
  }

  std::string final_, partial_, progress_, header_;
  WriterOptions options_;
  int fd_ = -1, progress_fd_ = -1;
};

}  // namespace

std::unique_ptr<ArrayReader> open_npy(const ArraySpec& spec) {
  const io::NpyHeader h = io::read_npy_header(spec.file);
  if (h.shape.empty())
    throw IoError("npy '" + spec.file + "': a 0-d array has no examples axis to stream over");
  if (h.fortran_order && h.shape.size() > 1)
    throw IoError("npy '" + spec.file +
                  "': Fortran-order data cannot be read example by example; save it in C order "
                  "(numpy.ascontiguousarray) to stream it");
  const int fd = ::open(spec.file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError("npy '" + spec.file + "': cannot open for reading (" + errno_text() + ")");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw IoError("npy '" + spec.file + "': cannot stat (" + errno_text() + ")");
  }
  const size_t size = static_cast<size_t>(st.st_size);
  unsigned char* map = nullptr;
  if (size > h.data_offset) {
    void* m = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
      ::close(fd);
      throw IoError("npy '" + spec.file + "': cannot memory-map (" + errno_text() + ")");
    }
    map = static_cast<unsigned char*>(m);
    ::madvise(map, size, MADV_SEQUENTIAL);
  }
  try {
    return std::make_unique<NpyReader>(spec.text, h, fd, map, size);
  } catch (...) {
    if (map) ::munmap(map, size);
    ::close(fd);
    throw;
  }
}

std::unique_ptr<ArrayWriter> create_npy(const ArraySpec& spec, const std::vector<int64_t>& shape,
                                        const WriterOptions& options) {
  return std::make_unique<NpyWriter>(spec, shape, options);
}

}  // namespace trim::dataset::detail
