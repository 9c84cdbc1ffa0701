// A small JSON writer (RFC 8259).
#include "trim/io/json.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "trim/core/error.hpp"

namespace trim::io {

namespace detail {
// Atomic write helper shared with the .npy writer (src/io/npy.cpp).
void write_file_atomic(const std::string& path, const std::string& bytes, const std::string& what);
}  // namespace detail

namespace {

/// Length of the valid UTF-8 sequence starting at s[i], or 0 when invalid
/// (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t utf8_length(const std::string& s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  size_t n = 0;
  uint32_t cp = 0;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

void newline(std::string& out, int indent, int depth) {
  if (indent <= 0) return;
  out += '\n';
  out.append(static_cast<size_t>(indent * depth), ' ');
}

}  // namespace

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    const size_t n = utf8_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out + "\"";
}

std::string json_number(double v) {
  if (!std::isfinite(v)) throw ValueError("json_number: " + std::string(std::isnan(v) ? "NaN" : "infinity") +
                                          " has no JSON representation");
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  // The shortest %.*g that reads back exactly (at most 17 digits).
  char buf[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  // Keep it recognisably a float ("3" -> "3.0"), as Python's json does.
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

Json::Json(const std::vector<double>& values) : type_(Type::Array) {
  items_.reserve(values.size());
  for (double v : values) items_.emplace_back(v);
}

Json::Json(const std::vector<int64_t>& values) : type_(Type::Array) {
  items_.reserve(values.size());
  for (int64_t v : values) items_.emplace_back(static_cast<long long>(v));
}

Json& Json::push(Json value) {
  if (type_ != Type::Array) throw ValueError("Json::push: the value is not an array");
  items_.push_back(std::move(value));
  return *this;
}

Json& Json::set(const std::string& key, Json value) {
  if (type_ != Type::Object) throw ValueError("Json::set('" + key + "'): the value is not an object");
  for (auto& m : members_)
    if (m.first == key) {
      m.second = std::move(value);
      return *this;
    }
  members_.emplace_back(key, std::move(value));
  return *this;
}

size_t Json::size() const {
  if (type_ == Type::Array) return items_.size();
  if (type_ == Type::Object) return members_.size();
  return 0;
}

std::string Json::dump(int indent, NonFinite non_finite) const {
  std::string out;
  write(out, indent, 0, non_finite, "$");
  return out;
}

void Json::write(std::string& out, int indent, int depth, NonFinite non_finite, const std::string& path) const {
  switch (type_) {
    case Type::Null: out += "null"; return;
    case Type::Bool: out += bool_ ? "true" : "false"; return;
    case Type::Integer: out += std::to_string(int_); return;
    case Type::Number:
      if (std::isfinite(number_)) {
        out += json_number(number_);
      } else if (non_finite == NonFinite::Null) {
        out += "null";
      } else {
        throw ValueError("JSON: " + path + " is " + (std::isnan(number_) ? "NaN" : "infinite") +
                         ", which JSON cannot represent");
      }
      return;
    case Type::String: out += json_quote(string_); return;
    case Type::Array: {
      if (items_.empty()) {
        out += "[]";
        return;
      }
      // Arrays of scalars stay on one line; nested structures are indented.
      bool flat = true;
      for (const Json& j : items_) flat = flat && j.type_ != Type::Array && j.type_ != Type::Object;
      out += '[';
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i) out += flat || indent <= 0 ? ", " : ",";
        if (!flat) newline(out, indent, depth + 1);
        items_[i].write(out, indent, depth + 1, non_finite, path + "[" + std::to_string(i) + "]");
      }
      if (!flat) newline(out, indent, depth);
      out += ']';
      return;
    }
    case Type::Object: {
      if (members_.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      for (size_t i = 0; i < members_.size(); ++i) {
        if (i) out += indent <= 0 ? ", " : ",";
        newline(out, indent, depth + 1);
        out += json_quote(members_[i].first);
        out += ": ";
        members_[i].second.write(out, indent, depth + 1, non_finite, path + "." + members_[i].first);
      }
      newline(out, indent, depth);
      out += '}';
      return;
    }
  }
}

void write_json(const std::string& path, const Json& value, NonFinite non_finite) {
  std::string text;
  try {
    text = value.dump(2, non_finite) + "\n";
  } catch (const ValueError& e) {
    throw ValueError("json '" + path + "': " + e.what());
  }
  detail::write_file_atomic(path, text, "json");
}

}  // namespace trim::io
