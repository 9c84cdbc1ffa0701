#include "trim/core/text.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace trim {

std::optional<int64_t> parse_int(const std::string& s) {
  if (s.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return std::nullopt;
  return static_cast<int64_t>(v);
}

std::optional<double> parse_double(const std::string& s) {
  if (s.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return parts;
}

std::optional<int64_t> parse_bytes(const std::string& s_in) {
  std::string s = s_in;
  for (const char* tail : {"iB", "B"})
    if (s.size() > std::string(tail).size() && s.compare(s.size() - std::string(tail).size(), std::string::npos, tail) == 0) {
      s.resize(s.size() - std::string(tail).size());
      break;
    }
  double unit = 1.0;
  if (!s.empty()) {
    const char u = static_cast<char>(std::toupper(static_cast<unsigned char>(s.back())));
    const char* units = "KMGT";
    for (int k = 0; units[k]; ++k)
      if (u == units[k]) {
        unit = std::ldexp(1.0, 10 * (k + 1));
        s.pop_back();
      }
  }
  const std::optional<double> v = parse_double(s);
  if (!v || !(*v * unit >= 1.0) || *v * unit > 9.0e18) return std::nullopt;
  return static_cast<int64_t>(*v * unit);
}

std::string bytes_text(int64_t bytes) {
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  int k = -1;
  while (v >= 1024.0 && k < 3) {
    v /= 1024.0;
    ++k;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, units[k]);
  return buf;
}

}  // namespace trim
