// Parsing an ONNX model without copying its large initializers (see onnx_lean.hpp).
#include "onnx_lean.hpp"

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <vector>

#include "trim/core/error.hpp"

namespace trim::io::detail {

void MemorySource::read(uint64_t offset, void* dst, size_t n) const {
  if (offset > size_ || n > size_ - offset)
    throw IoError("onnx '" + name_ + "': " + std::to_string(n) + " bytes at offset " + std::to_string(offset) +
                  " lie beyond its " + std::to_string(size_) + " bytes");
  if (n) std::memcpy(dst, data_ + offset, n);
}

FileSource::FileSource(const std::string& path) : path_(path) {
  // An ifstream opens a directory without complaint and reports its size as
  // 2^63 − 1.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw IoError("onnx '" + path + "': is a directory, not a model file");
  in_.open(path, std::ios::binary);
  if (!in_) throw IoError("onnx '" + path + "': cannot open for reading (" + std::strerror(errno) + ")");
  in_.seekg(0, std::ios::end);
  const std::streamoff size = in_.tellg();
  if (size < 0) throw IoError("onnx '" + path + "': cannot determine the file size");
  size_ = static_cast<uint64_t>(size);
}

void FileSource::read(uint64_t offset, void* dst, size_t n) const {
  if (offset > size_ || n > size_ - offset)
    throw IoError("onnx '" + path_ + "': " + std::to_string(n) + " bytes at offset " + std::to_string(offset) +
                  " lie beyond its " + std::to_string(size_) + " bytes");
  in_.clear();
  in_.seekg(static_cast<std::streamoff>(offset), std::ios::beg);
  in_.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
  if (in_.gcount() != static_cast<std::streamsize>(n))
    throw IoError("onnx '" + path_ + "': read error at offset " + std::to_string(offset) +
                  " (the file changed while it was being read?)");
}

namespace {

/// Wire data this scan does not follow; protobuf parses the whole model instead.
struct NotFollowed {};

// Field numbers along the path ModelProto.graph -> GraphProto.initializer ->
// TensorProto.raw_data (onnx.proto).
constexpr uint64_t kModelGraph = 7, kGraphInitializer = 5, kTensorRawData = 9;
constexpr int kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5;

/// Reads a source front to back through a small window, copying spans to
/// the lean buffer.
class Scanner {
 public:
  explicit Scanner(const ByteSource& src) : src_(src) {}

  uint64_t varint(uint64_t& pos, uint64_t end) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= end) throw NotFollowed{};
      const unsigned char b = byte(pos++);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw NotFollowed{};
  }
  /// Position after the value of a field of wire type `wt` starting at `pos`.
  uint64_t skip(int wt, uint64_t pos, uint64_t end) {
    uint64_t n = 0;
    switch (wt) {
      case kVarint: varint(pos, end); return pos;
      case kFixed64: n = 8; break;
      case kFixed32: n = 4; break;
      case kLengthDelimited: n = varint(pos, end); break;
      default: throw NotFollowed{};  // groups: protobuf reads them
    }
    if (n > end - pos) throw NotFollowed{};
    return pos + n;
  }
  void copy(uint64_t from, uint64_t to, std::string& out) {
    const size_t old = out.size();
    out.resize(old + static_cast<size_t>(to - from));
    src_.read(from, &out[old], static_cast<size_t>(to - from));
  }

 private:
  unsigned char byte(uint64_t pos) {
    if (pos < win_pos_ || pos >= win_pos_ + win_.size()) {
      win_.resize(static_cast<size_t>(std::min<uint64_t>(kWindow, src_.size() - pos)));
      win_pos_ = pos;
      src_.read(pos, win_.data(), win_.size());
    }
    return win_[static_cast<size_t>(pos - win_pos_)];
  }
  static constexpr uint64_t kWindow = 1 << 16;
  const ByteSource& src_;
  std::vector<unsigned char> win_;
  uint64_t win_pos_ = 0;
};

void put_varint(uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

/// Copies the message in [pos, end) to `out`, handing each length-delimited
/// field `nested` names to `inner` (which writes its rewritten body).
template <class Inner>
void rewrite(Scanner& s, uint64_t pos, uint64_t end, uint64_t nested, std::string& out, Inner inner) {
  while (pos < end) {
    const uint64_t start = pos;
    const uint64_t key = s.varint(pos, end);
    const int wt = static_cast<int>(key & 7);
    if ((key >> 3) == nested && wt == kLengthDelimited) {
      const uint64_t n = s.varint(pos, end);
      if (n > end - pos) throw NotFollowed{};
      std::string body;
      inner(pos, pos + n, body);
      put_varint(key, out);
      put_varint(body.size(), out);
      out += body;
      pos += n;
    } else {
      pos = s.skip(wt, pos, end);
      s.copy(start, pos, out);
    }
  }
}

/// The lean bytes of the model in `src` and where each left-out raw_data lies
/// (by initializer, in order; size 0: kept in the lean bytes).
std::string lean_bytes(const ByteSource& src, std::vector<ExternalRaw>& raws) {
  Scanner s(src);
  std::string out;
  auto tensor = [&](uint64_t pos, uint64_t end, std::string& body) {
    ExternalRaw raw{&src, 0, 0};
    while (pos < end) {
      const uint64_t start = pos;
      const uint64_t key = s.varint(pos, end);
      const int wt = static_cast<int>(key & 7);
      pos = s.skip(wt, pos, end);
      if ((key >> 3) == kTensorRawData && wt == kLengthDelimited) {
        uint64_t data = start;
        s.varint(data, end);  // the key
        s.varint(data, end);  // the length
        // The last raw_data wins (protobuf's merge): a small one after a
        // large one is kept in the lean bytes and cancels the large one.
        if (pos - data >= kLeanRawBytes) {
          raw.offset = data;
          raw.size = pos - data;
          continue;
        }
        raw.size = 0;
      }
      s.copy(start, pos, body);
    }
    raws.push_back(raw);
  };
  auto graph = [&](uint64_t pos, uint64_t end, std::string& body) {
    rewrite(s, pos, end, kGraphInitializer, body, tensor);
  };
  rewrite(s, 0, src.size(), kModelGraph, out, graph);
  return out;
}

void parse_or_throw(onnx::ModelProto& m, const std::string& bytes, const std::string& name) {
  if (bytes.size() > static_cast<size_t>(INT_MAX) || !m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw IoError("onnx '" + name + "': not a valid ONNX protobuf (malformed or truncated file)");
}

}  // namespace

LeanModel parse_lean(std::shared_ptr<const ByteSource> source, const std::string& name) {
  if (source->size() == 0) throw IoError("onnx '" + name + "': the file is empty");
  if (source->size() > static_cast<uint64_t>(INT32_MAX))
    throw IoError("onnx '" + name + "': file of " + std::to_string(source->size()) +
                  " bytes exceeds protobuf's 2 GB limit");
  LeanModel lean;
  lean.source = source;
  std::vector<ExternalRaw> raws;
  std::string bytes;
  bool followed = true;
  try {
    bytes = lean_bytes(*source, raws);
  } catch (const NotFollowed&) {
    followed = false;
  }
  if (followed) {
    parse_or_throw(lean.model, bytes, name);
    // Every initializer occurrence the scan saw is one entry of the parsed
    // list, in order (repeated fields of merged graphs concatenate).
    if (raws.size() != static_cast<size_t>(lean.model.graph().initializer_size())) followed = false;
  }
  if (!followed) {  // protobuf reads what the scan could not follow (and reports what is wrong)
    raws.clear();
    lean.model.Clear();
    bytes.assign(static_cast<size_t>(source->size()), '\0');
    source->read(0, &bytes[0], bytes.size());
    parse_or_throw(lean.model, bytes, name);
    return lean;
  }
  for (size_t k = 0; k < raws.size(); ++k)
    if (raws[k].size) lean.raw[&lean.model.graph().initializer(static_cast<int>(k))] = raws[k];
  return lean;
}

LeanModel parse_lean_file(const std::string& path) {
  return parse_lean(std::make_shared<FileSource>(path), path);
}

}  // namespace trim::io::detail
