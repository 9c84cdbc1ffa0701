#pragma once
/// \file
/// A small JSON writer for summaries (`trim attribute --json`): values are
/// built as a tree and serialised with RFC 8259 string escaping. Objects keep
/// their keys in insertion order so files read well and diff cleanly.
///
/// JSON has no NaN or infinity. By default `dump` throws ValueError naming
/// the path of the offending number ("$.groups[3].score is NaN"); with
/// `NonFinite::Null` such numbers are written as `null`.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace trim::io {

/// What to do with NaN / ±inf numbers when serialising.
enum class NonFinite {
  Reject,  ///< ValueError naming the value's path
  Null,    ///< write `null`
};

class Json {
 public:
  enum class Type { Null, Bool, Integer, Number, String, Array, Object };

  Json() = default;  ///< null
  Json(std::nullptr_t) {}  // NOLINT: implicit on purpose, as for every scalar below
  Json(bool b) : type_(Type::Bool), bool_(b) {}                   // NOLINT
  Json(int i) : type_(Type::Integer), int_(i) {}                  // NOLINT
  Json(long i) : type_(Type::Integer), int_(i) {}                 // NOLINT
  Json(long long i) : type_(Type::Integer), int_(i) {}            // NOLINT
  Json(unsigned i) : type_(Type::Integer), int_(i) {}             // NOLINT
  Json(unsigned long i) : type_(Type::Integer), int_(static_cast<int64_t>(i)) {}       // NOLINT
  Json(unsigned long long i) : type_(Type::Integer), int_(static_cast<int64_t>(i)) {}  // NOLINT
  Json(double d) : type_(Type::Number), number_(d) {}             // NOLINT
  Json(const char* s) : type_(Type::String), string_(s) {}        // NOLINT
  Json(std::string s) : type_(Type::String), string_(std::move(s)) {}  // NOLINT
  /// An array of numbers.
  Json(const std::vector<double>& values);  // NOLINT
  /// An array of integers.
  Json(const std::vector<int64_t>& values);  // NOLINT

  static Json array() { return Json(Type::Array); }
  static Json object() { return Json(Type::Object); }

  Type type() const { return type_; }
  /// Appends to an array (ValueError when this is not an array).
  Json& push(Json value);
  /// Sets a key of an object (replacing an existing one; ValueError when this
  /// is not an object). Returns *this for chaining.
  Json& set(const std::string& key, Json value);
  /// Number of elements of an array or keys of an object (0 otherwise).
  size_t size() const;

  /// Serialises the value; `indent` > 0 pretty-prints with that many spaces
  /// per level, 0 writes one line. Numbers use the shortest decimal form
  /// that reads back to the same double.
  std::string dump(int indent = 2, NonFinite non_finite = NonFinite::Reject) const;

 private:
  explicit Json(Type t) : type_(t) {}
  void write(std::string& out, int indent, int depth, NonFinite non_finite, const std::string& path) const;

  Type type_ = Type::Null;
  bool bool_ = false;
  int64_t int_ = 0;
  double number_ = 0;
  std::string string_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

/// `s` as a JSON string literal with quotes: ", \ and control characters
/// escaped (\n, \t, ... or \u00XX); bytes that are not valid UTF-8 become
/// U+FFFD so the output is always valid JSON.
std::string json_quote(const std::string& s);

/// The shortest decimal text that reads back as `v` (finite `v` only).
std::string json_number(double v);

/// Writes `value.dump(2, non_finite)` plus a newline to `path` through a
/// temporary file renamed into place; IoError naming the file on failure.
void write_json(const std::string& path, const Json& value, NonFinite non_finite = NonFinite::Reject);

}  // namespace trim::io
