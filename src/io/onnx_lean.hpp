#pragma once
// Internal to the ONNX reader: parsing a model without holding its weights
// twice. Not installed.
//
// protobuf would copy every initializer's raw_data into a std::string of the
// parsed ModelProto, and the importer then decodes it into its own buffer: a
// large model's weights were held two to four times while loading. Here one
// pass over the wire format copies everything except the large raw_data
// fields of the main graph's initializers into a small buffer that protobuf
// parses; those fields stay in the file (or the caller's bytes) and the
// importer reads each straight into the buffer that becomes its graph
// parameter.

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <unordered_map>

#include "onnx_internal.hpp"

namespace trim::io::detail {

/// Random-access bytes of a model: a file or a caller's buffer.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  /// Copies `n` bytes at `offset` into `dst`; throws IoError when they are
  /// not all there (the file changed or was truncated since it was scanned).
  virtual void read(uint64_t offset, void* dst, size_t n) const = 0;
};

/// A model's bytes held by the caller (they must outlive every reader).
class MemorySource : public ByteSource {
 public:
  MemorySource(const char* data, uint64_t size, std::string name) : data_(data), size_(size), name_(std::move(name)) {}
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, void* dst, size_t n) const override;

 private:
  const char* data_;
  uint64_t size_;
  std::string name_;
};

/// A model file, read where needed (never whole).
class FileSource : public ByteSource {
 public:
  explicit FileSource(const std::string& path);
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, void* dst, size_t n) const override;

 private:
  std::string path_;
  mutable std::ifstream in_;
  uint64_t size_ = 0;
};

/// Where the raw_data of one initializer lies in its source.
struct ExternalRaw {
  const ByteSource* source = nullptr;
  uint64_t offset = 0;
  uint64_t size = 0;
};

/// The raw_data left out of the parsed model, by initializer.
using RawIndex = std::unordered_map<const onnx::TensorProto*, ExternalRaw>;

/// A parsed model whose large initializers' raw_data stayed in `source`.
struct LeanModel {
  std::shared_ptr<const ByteSource> source;
  onnx::ModelProto model;
  RawIndex raw;
};

/// raw_data fields at least this long stay in the source.
inline constexpr uint64_t kLeanRawBytes = 256;

/// Parses `source` (named `name` in messages) into a LeanModel. Throws
/// IoError "not a valid ONNX protobuf" for what protobuf itself rejects;
/// wire data this scan cannot follow is handed to protobuf whole.
LeanModel parse_lean(std::shared_ptr<const ByteSource> source, const std::string& name);
/// parse_lean over a file (checks it exists, is not a directory, < 2 GB).
LeanModel parse_lean_file(const std::string& path);

}  // namespace trim::io::detail
