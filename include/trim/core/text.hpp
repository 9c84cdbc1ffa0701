#pragma once
/// \file
/// The small text parsing every spec string and command line needs (transform
/// specs, `--groups`, `--target`), in one place so that they agree on what a
/// number is.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace trim {

/// Parses the whole string as a base-10 integer (strtoll's syntax); nullopt
/// when it is not one or does not fit.
std::optional<int64_t> parse_int(const std::string& s);
/// Parses the whole string as a finite number; nullopt otherwise.
std::optional<double> parse_double(const std::string& s);
/// Splits at every `sep` (empty parts kept: "a::b" gives "a", "", "b").
std::vector<std::string> split(const std::string& s, char sep);
/// Parses a size in bytes: a positive number with an optional suffix K, M,
/// G or T (powers of 1024; "B" or "iB" may follow: 2G, 2GB, 2GiB, 1.5G,
/// 500M, 65536). nullopt when it is not one, is below one byte or overflows.
std::optional<int64_t> parse_bytes(const std::string& s);
/// A byte count for messages: "512 B", "1.5 MiB", "2.00 GiB".
std::string bytes_text(int64_t bytes);

}  // namespace trim
