#pragma once
/// \file
/// SHA-256 (FIPS 180-4), so that a result file can name the exact model and
/// data it came from: the digest of a file identifies it whatever its name.

#include <cstddef>
#include <cstdint>
#include <string>

namespace trim::io {

/// Incremental SHA-256: feed bytes with update(), read the digest once.
class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t n);
  void update(const std::string& s) { update(s.data(), s.size()); }
  /// The digest as 64 lowercase hex digits; ends the computation.
  std::string hex();

 private:
  void block(const unsigned char* p);
  uint32_t h_[8];
  unsigned char buffer_[64];
  size_t buffered_ = 0;
  uint64_t length_ = 0;  ///< bytes fed so far
};

/// SHA-256 of a string, as 64 lowercase hex digits.
std::string sha256_hex(const std::string& bytes);

/// SHA-256 of a file's contents (read in blocks); IoError naming the file
/// when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace trim::io
