#pragma once
/// \file
/// Chunked access to arrays larger than memory: one interface for `.npy`
/// (memory-mapped), HDF5 datasets and FITS images, so a run over a
/// simulation suite reads and writes a few examples at a time whatever the
/// file size or format.
///
/// An array is N examples along axis 0 (rows) by any per-example shape.
/// Readers hand out rows `[first, first + count)` as float32; writers take
/// rows in any order, record which are on disk so a killed run can resume,
/// and make the file visible under its final name only on `commit()`.
///
/// Array specs name the file and, where the format holds several arrays,
/// the array inside it:
///   - `maps.npy`                      a NumPy file
///   - `suite.h5:/sims/maps`           the dataset `/sims/maps` of an HDF5 file
///     (also `.hdf5`, `.he5`)
///   - `maps.fits`, `maps.fits[2]`, `maps.fits[MAPS]`  the primary image (or,
///     when it is empty, the first image extension), or an image extension by
///     number or EXTNAME (also `.fit`, `.fts`; cfitsio's extended syntax)
///
/// HDF5 and FITS are optional (Meson features `hdf5`, `fits`); a spec of a
/// format the build lacks is an IoError saying so. The HDF5 library is not
/// thread-safe in Debian's serial build: use a reader or writer from one
/// thread at a time.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "trim/core/tensor.hpp"

namespace trim::dataset {

/// A range of examples (rows along axis 0).
struct Rows {
  int64_t first = 0;
  int64_t count = 0;
  int64_t end() const { return first + count; }
  bool operator==(const Rows& o) const { return first == o.first && count == o.count; }
};

/// Which optional formats this build reads and writes.
bool has_hdf5();
bool has_fits();

/// The file formats an array spec can name.
enum class Format { Npy, Hdf5, Fits };

/// A parsed array spec: the format, the file, and the array inside it (HDF5
/// dataset path, or the FITS extension text between brackets; empty for npy).
struct ArraySpec {
  Format format = Format::Npy;
  std::string file;
  std::string inner;
  std::string text;  ///< as given, for messages
};

/// Splits a spec (see the file comment); ValueError for an HDF5 file without
/// a dataset path or an unknown extension.
ArraySpec parse_array_spec(const std::string& spec);

/// Reads rows of an on-disk array as float32 (any stored numeric type is
/// converted). Memory use is the rows asked for, not the file.
class ArrayReader {
 public:
  virtual ~ArrayReader() = default;
  ArrayReader(const ArrayReader&) = delete;
  ArrayReader& operator=(const ArrayReader&) = delete;

  /// Full shape in C order, examples first.
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t rows() const { return shape_.empty() ? 0 : shape_[0]; }
  /// Elements per example (product of the shape after axis 0).
  int64_t row_size() const { return row_size_; }
  const std::string& spec() const { return spec_; }

  /// Rows [first, first + count) as a tensor [count, shape[1:]...].
  /// ValueError naming the file when the range is outside [0, rows()).
  Tensor read(int64_t first, int64_t count);
  /// The same into `out` (count * row_size() floats).
  void read_into(int64_t first, int64_t count, float* out);

 protected:
  ArrayReader(std::string spec, std::vector<int64_t> shape);
  virtual void do_read(int64_t first, int64_t count, float* out) = 0;

 private:
  std::string spec_;
  std::vector<int64_t> shape_;
  int64_t row_size_ = 0;
};

/// Opens any supported array (see the file comment); IoError naming the file
/// and the problem (missing, not an array, unsupported type, rank 0).
std::unique_ptr<ArrayReader> open_array(const std::string& spec);

/// How a writer lays out its file and what it records.
struct WriterOptions {
  /// Run settings stored with the result as string attributes of the HDF5
  /// dataset (.npy has no place for them). For both formats they are part of
  /// the resume fingerprint: a run with other settings never continues this one.
  std::vector<std::pair<std::string, std::string>> attributes;
  /// Continue a killed run: reopen the partial file and its progress when
  /// they exist and match (shape and attributes), else start fresh. Without
  /// it a stale partial file is replaced.
  bool resume = false;
  /// Keep the partial file and its progress when the writer is destroyed
  /// without commit() (a failed run can then be resumed); otherwise they are
  /// removed.
  bool keep_partial = false;
  /// HDF5 chunk size along the examples (0: about 1 MiB per chunk).
  int64_t chunk_rows = 0;
  /// HDF5 gzip level 0-9 (0: no compression).
  int gzip = 0;
  /// Flush the data to disk before recording a chunk as finished (what makes
  /// --resume trustworthy after a power cut; costs one fsync per chunk).
  bool sync = true;
};

/// Writes rows of a float32 array [shape...] (examples first). Rows go to a
/// partial file (npy: `FILE.partial`; HDF5: the dataset `PATH.partial` in the
/// file) and appear under the final name only on commit(), so a failed run
/// never leaves a half-written result where a finished one is expected.
class ArrayWriter {
 public:
  virtual ~ArrayWriter() = default;
  ArrayWriter(const ArrayWriter&) = delete;
  ArrayWriter& operator=(const ArrayWriter&) = delete;

  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t rows() const { return shape_[0]; }
  int64_t row_size() const { return row_size_; }
  const std::string& spec() const { return spec_; }

  /// Writes rows [first, first + count) from `data` (count * row_size()
  /// floats, row-major) and records them as finished.
  void write(int64_t first, int64_t count, const float* data);
  /// The same from a tensor [count, shape[1:]...].
  void write(int64_t first, const Tensor& block);

  /// Rows on disk, merged and sorted (after resume: what the killed run finished).
  const std::vector<Rows>& finished() const { return finished_; }
  /// True when every row of `r` is already on disk (a resumed run skips it).
  bool is_finished(Rows r) const;
  /// True when every row is on disk.
  bool complete() const;

  /// Reads finished rows back from the partial file (a resumed run feeds
  /// them to its summary); ValueError for rows not finished yet.
  void read_back(int64_t first, int64_t count, float* out);

  /// Flushes, moves the result to its final name (replacing an older one)
  /// and removes the progress record. IoError when rows are missing.
  void commit();
  bool committed() const { return committed_; }

 protected:
  ArrayWriter(std::string spec, std::vector<int64_t> shape);
  virtual void do_write(int64_t first, int64_t count, const float* data) = 0;
  /// Makes the rows just written durable and records `r` as finished.
  virtual void do_record(Rows r, const std::vector<Rows>& finished) = 0;
  virtual void do_commit() = 0;
  virtual void do_read_back(int64_t first, int64_t count, float* out) = 0;
  /// Called by subclasses after reopening a partial file.
  void set_finished(std::vector<Rows> rows);

 private:
  std::string spec_;
  std::vector<int64_t> shape_;
  int64_t row_size_ = 0;
  std::vector<Rows> finished_;
  bool committed_ = false;
};

/// Creates a writer for `spec` (`.npy` or `FILE.h5:/path`; FITS output is not
/// supported). ValueError for a bad shape, IoError for the file.
std::unique_ptr<ArrayWriter> create_array(const std::string& spec, const std::vector<int64_t>& shape,
                                          const WriterOptions& options = {});

/// Adds `r` to a sorted list of disjoint ranges, merging neighbours.
void add_rows(std::vector<Rows>& list, Rows r);

/// A fingerprint of a writer's shape and attributes: a resumed run must match it.
std::string writer_fingerprint(const std::vector<int64_t>& shape, const WriterOptions& options);

}  // namespace trim::dataset
