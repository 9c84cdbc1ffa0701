// HDF5 datasets for dataset/array.hpp (serial HDF5; any integer or float
// type read as float32 by HDF5's own conversion, chunked and compressed
// datasets included). The writer creates `PATH.partial` (in `FILE.partial`
// when the file is new), keeps the finished ranges in an attribute of that
// dataset, and renames both on commit.
#include "formats.hpp"
#include "trim/core/error.hpp"
#include "trim/dataset/summary.hpp"

#ifdef TRIM_HAVE_HDF5

#include <hdf5.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <mutex>

namespace trim::dataset {

bool has_hdf5() { return true; }

namespace detail {

namespace {

/// Owns an HDF5 identifier and closes it with the matching function.
class Hid {
 public:
  using Closer = herr_t (*)(hid_t);
  Hid() = default;
  Hid(hid_t id, Closer close) : id_(id), close_(close) {}
  Hid(Hid&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Hid& operator=(Hid&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      close_ = o.close_;
      o.id_ = -1;
    }
    return *this;
  }
  ~Hid() { reset(); }
  void reset() {
    if (id_ >= 0 && close_) close_(id_);
    id_ = -1;
  }
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

/// HDF5 prints its error stack to stderr by default; trim reports errors as
/// exceptions instead, with the innermost HDF5 message attached.
void quiet_hdf5() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

herr_t first_message(unsigned n, const H5E_error2_t* e, void* out) {
  if (n == 0 && e->desc) *static_cast<std::string*>(out) = e->desc;
  return 0;
}

std::string hdf5_reason() {
  std::string msg;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, first_message, &msg);
  H5Eclear2(H5E_DEFAULT);
  return msg.empty() ? std::string() : " (HDF5: " + msg + ")";
}

[[noreturn]] void fail(const std::string& file, const std::string& problem) {
  throw IoError("hdf5 '" + file + "': " + problem + hdf5_reason());
}

Hid check(hid_t id, Hid::Closer close, const std::string& file, const std::string& what) {
  if (id < 0) fail(file, what);
  return Hid(id, close);
}

bool link_exists(hid_t file, const std::string& path) {
  // H5Lexists fails on a missing intermediate group: test each prefix.
  size_t pos = 1;
  while (true) {
    const size_t next = path.find('/', pos);
    const std::string prefix = path.substr(0, next);
    if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (next == std::string::npos) return true;
    pos = next + 1;
  }
}

std::vector<int64_t> dataset_shape(hid_t ds, const std::string& file, const std::string& path) {
  Hid space = check(H5Dget_space(ds), H5Sclose, file, "cannot read the dataspace of '" + path + "'");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) fail(file, "dataset '" + path + "' has no simple dataspace");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return std::vector<int64_t>(dims.begin(), dims.end());
}

/// Selects rows [first, first + count) of `shape` in a new file dataspace.
Hid select_rows(hid_t ds, const std::vector<int64_t>& shape, int64_t first, int64_t count, const std::string& file) {
  Hid space = check(H5Dget_space(ds), H5Sclose, file, "cannot read a dataspace");
  std::vector<hsize_t> start(shape.size(), 0), n(shape.begin(), shape.end());
  start[0] = static_cast<hsize_t>(first);
  n[0] = static_cast<hsize_t>(count);
  if (H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, n.data(), nullptr) < 0)
    fail(file, "cannot select rows");
  return space;
}

Hid memory_space(const std::vector<int64_t>& shape, int64_t count, const std::string& file) {
  std::vector<hsize_t> n(shape.begin(), shape.end());
  n[0] = static_cast<hsize_t>(count);
  return check(H5Screate_simple(static_cast<int>(n.size()), n.data(), nullptr), H5Sclose, file,
               "cannot create a memory dataspace");
}

class Hdf5Reader final : public ArrayReader {
 public:
  Hdf5Reader(const ArraySpec& spec, Hid file, Hid ds, std::vector<int64_t> shape)
      : ArrayReader(spec.text, std::move(shape)), file_name_(spec.file), file_(std::move(file)), ds_(std::move(ds)) {}

 protected:
  void do_read(int64_t first, int64_t count, float* out) override {
    Hid fs = select_rows(ds_.get(), shape(), first, count, file_name_);
    Hid ms = memory_space(shape(), count, file_name_);
    if (H5Dread(ds_.get(), H5T_NATIVE_FLOAT, ms.get(), fs.get(), H5P_DEFAULT, out) < 0)
      fail(file_name_, "reading rows [" + std::to_string(first) + ", " + std::to_string(first + count) + ") of '" +
                           spec() + "' failed (corrupt file or a missing compression filter?)");
  }

 private:
  std::string file_name_;
  Hid file_, ds_;
};

Hid open_file(const std::string& file, unsigned flags) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) throw IoError("hdf5 '" + file + "': no such file");
  if (H5Fis_hdf5(file.c_str()) <= 0) fail(file, "is not an HDF5 file");
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
  return check(H5Fopen(file.c_str(), flags, fapl.get()), H5Fclose, file,
               flags == H5F_ACC_RDONLY ? "cannot open for reading" : "cannot open for writing");
}

void write_string_attribute(hid_t obj, const std::string& name, const std::string& value, const std::string& file) {
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  Hid type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), std::max<size_t>(1, value.size()));
  Hid space = check(H5Screate(H5S_SCALAR), H5Sclose, file, "cannot create a dataspace");
  Hid attr = check(H5Acreate2(obj, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose, file,
                   "cannot create the attribute '" + name + "'");
  const std::string padded = value.empty() ? std::string(1, '\0') : value;
  if (H5Awrite(attr.get(), type.get(), padded.data()) < 0) fail(file, "cannot write the attribute '" + name + "'");
}

std::string read_string_attribute(hid_t obj, const std::string& name) {
  if (H5Aexists(obj, name.c_str()) <= 0) return {};
  Hid attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attr.ok()) return {};
  Hid type(H5Aget_type(attr.get()), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) > 0) return {};
  std::string s(H5Tget_size(type.get()), '\0');
  if (H5Aread(attr.get(), type.get(), &s[0]) < 0) return {};
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

constexpr const char* kFingerprint = "trim_fingerprint";
constexpr const char* kFinished = "trim_finished_rows";

class Hdf5Writer final : public ArrayWriter {
 public:
  Hdf5Writer(const ArraySpec& spec, const std::vector<int64_t>& shape, const WriterOptions& options)
      : ArrayWriter(spec.text, shape), final_file_(spec.file), path_(spec.inner), partial_path_(spec.inner + ".partial"),
        options_(options) {
    quiet_hdf5();
    std::error_code ec;
    new_file_ = !std::filesystem::exists(final_file_, ec);
    work_file_ = new_file_ ? final_file_ + ".partial" : final_file_;
    const std::string fingerprint = writer_fingerprint(shape, options);
    if (new_file_ && !(options.resume && std::filesystem::exists(work_file_, ec))) {
      std::remove(work_file_.c_str());
      Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
      H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
      file_ = check(H5Fcreate(work_file_.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get()), H5Fclose, work_file_,
                    "cannot create");
    } else {
      file_ = open_file(work_file_, H5F_ACC_RDWR);
    }
    try {
      if (link_exists(file_.get(), partial_path_)) {
        if (options.resume && try_resume(fingerprint)) return;
        if (H5Ldelete(file_.get(), partial_path_.c_str(), H5P_DEFAULT) < 0)
          fail(work_file_, "cannot remove the stale '" + partial_path_ + "'");
      }
      create_dataset(fingerprint);
    } catch (...) {
      cleanup();
      throw;
    }
  }

  ~Hdf5Writer() override {
    if (committed()) return;
    if (options_.keep_partial) {
      ds_.reset();
      file_.reset();
    } else {
      cleanup();
    }
  }

 protected:
  void do_write(int64_t first, int64_t count, const float* data) override {
    Hid fs = select_rows(ds_.get(), shape(), first, count, work_file_);
    Hid ms = memory_space(shape(), count, work_file_);
    if (H5Dwrite(ds_.get(), H5T_NATIVE_FLOAT, ms.get(), fs.get(), H5P_DEFAULT, data) < 0)
      fail(work_file_, "writing rows [" + std::to_string(first) + ", " + std::to_string(first + count) + ") of '" +
                           partial_path_ + "' failed");
  }

  void do_record(Rows, const std::vector<Rows>& finished) override {
    std::vector<int64_t> flat;
    for (const Rows& r : finished) {
      flat.push_back(r.first);
      flat.push_back(r.count);
    }
    if (H5Aexists(ds_.get(), kFinished) > 0) H5Adelete(ds_.get(), kFinished);
    const hsize_t dims[2] = {finished.size(), 2};
    Hid space = check(H5Screate_simple(2, dims, nullptr), H5Sclose, work_file_, "cannot create a dataspace");
    Hid attr = check(H5Acreate2(ds_.get(), kFinished, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                     work_file_, "cannot record the progress");
    if (H5Awrite(attr.get(), H5T_NATIVE_INT64, flat.data()) < 0) fail(work_file_, "cannot record the progress");
    if (options_.sync && H5Fflush(file_.get(), H5F_SCOPE_LOCAL) < 0) fail(work_file_, "flushing failed");
  }

  void do_read_back(int64_t first, int64_t count, float* out) override {
    Hid fs = select_rows(ds_.get(), shape(), first, count, work_file_);
    Hid ms = memory_space(shape(), count, work_file_);
    if (H5Dread(ds_.get(), H5T_NATIVE_FLOAT, ms.get(), fs.get(), H5P_DEFAULT, out) < 0)
      fail(work_file_, "reading back rows of '" + partial_path_ + "' failed");
  }

  void do_commit() override {
    H5Adelete(ds_.get(), kFinished);
    H5Adelete(ds_.get(), kFingerprint);
    ds_.reset();
    if (link_exists(file_.get(), path_) && H5Ldelete(file_.get(), path_.c_str(), H5P_DEFAULT) < 0)
      fail(work_file_, "cannot replace the existing '" + path_ + "'");
    if (H5Lmove(file_.get(), partial_path_.c_str(), file_.get(), path_.c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0)
      fail(work_file_, "cannot rename '" + partial_path_ + "' to '" + path_ + "'");
    if (H5Fflush(file_.get(), H5F_SCOPE_LOCAL) < 0) fail(work_file_, "flushing failed");
    file_.reset();
    if (new_file_ && std::rename(work_file_.c_str(), final_file_.c_str()) != 0)
      throw IoError("hdf5 '" + final_file_ + "': cannot move '" + work_file_ + "' into place");
  }

 private:
  void create_dataset(const std::string& fingerprint) {
    const int rank = static_cast<int>(shape().size());
    std::vector<hsize_t> dims(shape().begin(), shape().end());
    Hid space = check(H5Screate_simple(rank, dims.data(), nullptr), H5Sclose, work_file_, "cannot create a dataspace");
    Hid lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    H5Pset_create_intermediate_group(lcpl.get(), 1);
    Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    int64_t chunk = options_.chunk_rows;
    if (chunk == 0) chunk = std::max<int64_t>(1, (int64_t{1} << 20) / std::max<int64_t>(1, row_size() * 4));
    chunk = std::max<int64_t>(1, std::min<int64_t>(chunk, std::max<int64_t>(rows(), 1)));
    std::vector<hsize_t> cdims = dims;
    cdims[0] = static_cast<hsize_t>(chunk);
    if (H5Pset_chunk(dcpl.get(), rank, cdims.data()) < 0) fail(work_file_, "cannot set the chunk shape");
    if (options_.gzip > 0 && H5Pset_deflate(dcpl.get(), static_cast<unsigned>(options_.gzip)) < 0)
      fail(work_file_, "gzip compression is not available");
    ds_ = check(H5Dcreate2(file_.get(), partial_path_.c_str(), H5T_IEEE_F32LE, space.get(), lcpl.get(), dcpl.get(),
                           H5P_DEFAULT),
                H5Dclose, work_file_, "cannot create the dataset '" + partial_path_ + "'");
    for (const auto& kv : options_.attributes) write_string_attribute(ds_.get(), kv.first, kv.second, work_file_);
    write_string_attribute(ds_.get(), kFingerprint, fingerprint, work_file_);
    if (H5Fflush(file_.get(), H5F_SCOPE_LOCAL) < 0) fail(work_file_, "flushing failed");
  }

  bool try_resume(const std::string& fingerprint) {
    Hid ds(H5Dopen2(file_.get(), partial_path_.c_str(), H5P_DEFAULT), H5Dclose);
    if (!ds.ok() || read_string_attribute(ds.get(), kFingerprint) != fingerprint) return false;
    if (dataset_shape(ds.get(), work_file_, partial_path_) != shape()) return false;
    std::vector<Rows> done;
    if (H5Aexists(ds.get(), kFinished) > 0) {
      Hid attr(H5Aopen(ds.get(), kFinished, H5P_DEFAULT), H5Aclose);
      Hid space(H5Aget_space(attr.get()), H5Sclose);
      const hssize_t n = H5Sget_simple_extent_npoints(space.get());
      if (n < 0 || n % 2) return false;
      std::vector<int64_t> flat(static_cast<size_t>(n));
      if (n > 0 && H5Aread(attr.get(), H5T_NATIVE_INT64, flat.data()) < 0) return false;
      for (size_t i = 0; i < flat.size(); i += 2) {
        const Rows r{flat[i], flat[i + 1]};
        if (r.first < 0 || r.count < 0 || r.first > rows() || r.count > rows() - r.first) return false;
        add_rows(done, r);
      }
    }
    ds_ = std::move(ds);
    set_finished(done);
    return true;
  }

  void cleanup() {
    ds_.reset();
    if (file_.ok() && !new_file_) H5Ldelete(file_.get(), partial_path_.c_str(), H5P_DEFAULT);
    file_.reset();
    if (new_file_) std::remove(work_file_.c_str());
  }

  std::string final_file_, work_file_, path_, partial_path_;
  WriterOptions options_;
  bool new_file_ = false;
  Hid file_, ds_;
};

}  // namespace

std::unique_ptr<ArrayReader> open_hdf5(const ArraySpec& spec) {
  quiet_hdf5();
  Hid file = open_file(spec.file, H5F_ACC_RDONLY);
  if (!link_exists(file.get(), spec.inner)) fail(spec.file, "has no dataset '" + spec.inner + "'");
  {
    Hid obj = check(H5Oopen(file.get(), spec.inner.c_str(), H5P_DEFAULT), H5Oclose, spec.file,
                    "cannot open '" + spec.inner + "'");
    if (H5Iget_type(obj.get()) != H5I_DATASET) fail(spec.file, "'" + spec.inner + "' is not a dataset (a group?)");
  }
  Hid ds = check(H5Dopen2(file.get(), spec.inner.c_str(), H5P_DEFAULT), H5Dclose, spec.file,
                 "cannot open the dataset '" + spec.inner + "'");
  Hid type(H5Dget_type(ds.get()), H5Tclose);
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT)
    fail(spec.file, "dataset '" + spec.inner + "' is not numeric (only integer and float datasets are read)");
  std::vector<int64_t> shape = dataset_shape(ds.get(), spec.file, spec.inner);
  if (shape.empty()) fail(spec.file, "dataset '" + spec.inner + "' is a scalar: no examples axis to stream over");
  return std::make_unique<Hdf5Reader>(spec, std::move(file), std::move(ds), std::move(shape));
}

std::unique_ptr<ArrayWriter> create_hdf5(const ArraySpec& spec, const std::vector<int64_t>& shape,
                                         const WriterOptions& options) {
  return std::make_unique<Hdf5Writer>(spec, shape, options);
}

namespace {

template <class T>
void write_scalar_attribute(hid_t obj, const char* name, hid_t type, const T& value, const std::string& file) {
  Hid space = check(H5Screate(H5S_SCALAR), H5Sclose, file, "cannot create a dataspace");
  Hid attr = check(H5Acreate2(obj, name, type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose, file,
                   std::string("cannot create the attribute '") + name + "'");
  if (H5Awrite(attr.get(), type, &value) < 0) fail(file, std::string("cannot write the attribute '") + name + "'");
}

void write_stats_group(hid_t parent, const std::string& name, const ColumnStats& s, const std::vector<int64_t>& shape,
                       const std::string& file) {
  Hid g = check(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, file,
                "cannot create the group '" + name + "'");
  write_scalar_attribute(g.get(), "count", H5T_NATIVE_INT64, s.count, file);
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  const std::pair<const char*, const std::vector<double>*> fields[] = {
      {"mean", &s.mean},     {"std", &s.stdev},     {"sem", &s.sem},       {"ci_low", &s.ci_low},
      {"ci_high", &s.ci_high}, {"median", &s.median}, {"q1", &s.q1},         {"q3", &s.q3}};
  for (const auto& f : fields) {
    if (f.second->empty()) continue;
    Hid space = check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose, file,
                      "cannot create a dataspace");
    Hid ds = check(H5Dcreate2(g.get(), f.first, H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                   H5Dclose, file, std::string("cannot create the dataset '") + f.first + "'");
    if (H5Dwrite(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, f.second->data()) < 0)
      fail(file, std::string("cannot write the dataset '") + f.first + "'");
  }
}

}  // namespace

}  // namespace detail

void write_summary_hdf5(const SummaryResult& r, const std::string& file, const std::string& group) {
  using namespace detail;
  quiet_hdf5();
  if (group.empty() || group[0] != '/') throw ValueError("hdf5 '" + file + "': the summary group must start with '/'");
  std::error_code ec;
  Hid f = std::filesystem::exists(file, ec)
              ? open_file(file, H5F_ACC_RDWR)
              : check(H5Fcreate(file.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, file, "cannot create");
  const std::string partial = group + ".partial";
  if (link_exists(f.get(), partial)) H5Ldelete(f.get(), partial.c_str(), H5P_DEFAULT);
  try {
    Hid lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    H5Pset_create_intermediate_group(lcpl.get(), 1);
    Hid g = check(H5Gcreate2(f.get(), partial.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), H5Gclose, file,
                  "cannot create the group '" + partial + "'");
    const int64_t replicates = r.options.keep_values ? r.options.bootstrap : 0;
    write_scalar_attribute(g.get(), "bootstrap_replicates", H5T_NATIVE_INT64, replicates, file);
    write_scalar_attribute(g.get(), "bootstrap_seed", H5T_NATIVE_UINT64, r.options.seed, file);
    write_scalar_attribute(g.get(), "bootstrap_level", H5T_NATIVE_DOUBLE, r.options.level, file);
    write_stats_group(g.get(), "all", r.all, r.column_shape, file);
    if (!r.classes.empty()) {
      Hid c = check(H5Gcreate2(g.get(), "classes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, file,
                    "cannot create the group 'classes'");
      for (const auto& kv : r.classes) write_stats_group(c.get(), std::to_string(kv.first), kv.second, r.column_shape, file);
    }
    g.reset();
    if (link_exists(f.get(), group) && H5Ldelete(f.get(), group.c_str(), H5P_DEFAULT) < 0)
      fail(file, "cannot replace the existing '" + group + "'");
    if (H5Lmove(f.get(), partial.c_str(), f.get(), group.c_str(), lcpl.get(), H5P_DEFAULT) < 0)
      fail(file, "cannot rename '" + partial + "' to '" + group + "'");
    if (H5Fflush(f.get(), H5F_SCOPE_LOCAL) < 0) fail(file, "flushing failed");
  } catch (...) {
    H5Ldelete(f.get(), partial.c_str(), H5P_DEFAULT);
    throw;
  }
}

}  // namespace trim::dataset

#else  // no HDF5 in this build

namespace trim::dataset {

bool has_hdf5() { return false; }

namespace detail {

std::unique_ptr<ArrayReader> open_hdf5(const ArraySpec& spec) {
  throw IoError("hdf5 '" + spec.file + "': this trim was built without HDF5 (install libhdf5-dev and rebuild)");
}
std::unique_ptr<ArrayWriter> create_hdf5(const ArraySpec& spec, const std::vector<int64_t>&, const WriterOptions&) {
  throw IoError("hdf5 '" + spec.file + "': this trim was built without HDF5 (install libhdf5-dev and rebuild)");
}

}  // namespace detail

void write_summary_hdf5(const SummaryResult&, const std::string& file, const std::string&) {
  throw IoError("hdf5 '" + file + "': this trim was built without HDF5 (install libhdf5-dev and rebuild)");
}
}  // namespace trim::dataset

#endif
