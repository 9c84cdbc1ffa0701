// The JSON writer of io/json.hpp: RFC 8259 escapes, numbers that read back
// exactly, non-finite numbers named by their path, atomic files.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>

#include "temp_dir.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/core/rng.hpp"
#include "trim/io/json.hpp"

using namespace trim;
using trim::io::Json;
using trim::test::TempDir;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("json_quote escapes what RFC 8259 requires and keeps valid UTF-8", "[io][json]") {
  CHECK(io::json_quote("plain") == "\"plain\"");
  CHECK(io::json_quote("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(io::json_quote("line\nnext\ttab\r\b\f") == "\"line\\nnext\\ttab\\r\\b\\f\"");
  CHECK(io::json_quote(std::string("nul\0x", 5)) == "\"nul\\u0000x\"");
  CHECK(io::json_quote("\x1f") == "\"\\u001f\"");
  CHECK(io::json_quote("/") == "\"/\"");  // '/' may stay unescaped
  // Valid multi-byte sequences pass unchanged: é (2 bytes), ℓ (3), 𝜎 (4).
  CHECK(io::json_quote("\xC3\xA9 \xE2\x84\x93 \xF0\x9D\x9C\x8E") == "\"\xC3\xA9 \xE2\x84\x93 \xF0\x9D\x9C\x8E\"");
  // Invalid bytes become U+FFFD: a lone continuation byte, a truncated
  // sequence, an overlong '/', a UTF-16 surrogate, a code point above U+10FFFF.
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(io::json_quote("\x80") == "\"" + fffd + "\"");
  CHECK(io::json_quote("a\xE2\x84") == "\"a" + fffd + fffd + "\"");
  CHECK(io::json_quote("\xC0\xAF") == "\"" + fffd + fffd + "\"");
  CHECK(io::json_quote("\xED\xA0\x80") == "\"" + fffd + fffd + fffd + "\"");
  CHECK(io::json_quote("\xF4\x90\x80\x80") == "\"" + fffd + fffd + fffd + fffd + "\"");
}

TEST_CASE("json_number is the shortest text that reads back exactly", "[io][json]") {
  CHECK(io::json_number(0.1) == "0.1");
  CHECK(io::json_number(3.0) == "3.0");
  CHECK(io::json_number(-2.5) == "-2.5");
  CHECK(io::json_number(1e300) == "1e+300");
  CHECK(io::json_number(0.0) == "0.0");
  CHECK(io::json_number(1.0 / 3.0) == "0.3333333333333333");
  CHECK(io::json_number(std::numeric_limits<double>::denorm_min()) == "5e-324");
  CHECK_THROWS_AS(io::json_number(std::nan("")), ValueError);
  CHECK_THROWS_AS(io::json_number(INFINITY), ValueError);
  // Random doubles of every magnitude read back bit for bit, with at most 17 digits.
  Rng rng(7);
  for (int i = 0; i < 2000; ++i) {
    const double v = rng.normal() * std::pow(10.0, static_cast<int>(rng.uniform() * 600) - 300);
    const std::string s = io::json_number(v);
    INFO(s);
    REQUIRE(std::strtod(s.c_str(), nullptr) == v);
    size_t significant = 0;  // digits from the first non-zero one to the exponent,
    const std::string mantissa = s.size() > 2 && s.substr(s.size() - 2) == ".0" ? s.substr(0, s.size() - 2) : s;
    for (char c : mantissa) {  // without the ".0" that marks an integral float
      if (c == 'e' || c == 'E') break;
      if ((c >= '1' && c <= '9') || (c == '0' && significant > 0)) ++significant;
    }
    REQUIRE(significant <= 17);
  }
}

TEST_CASE("Json values serialise in insertion order, compact or indented", "[io][json]") {
  Json doc = Json::object();
  doc.set("name", "trim").set("version", 1).set("ok", true).set("none", nullptr);
  doc.set("scores", std::vector<double>{0.5, -1.25});
  Json groups = Json::array();
  groups.push(Json::object().set("label", "cD_1").set("score", 2.0));
  doc.set("groups", groups);
  doc.set("version", 2);  // replaces, keeps its place
  CHECK(doc.size() == 6);
  CHECK(doc.dump(0) ==
        "{\"name\": \"trim\", \"version\": 2, \"ok\": true, \"none\": null, \"scores\": [0.5, -1.25], "
        "\"groups\": [{\"label\": \"cD_1\", \"score\": 2.0}]}");
  CHECK(doc.dump(2) ==
        "{\n"
        "  \"name\": \"trim\",\n"
        "  \"version\": 2,\n"
        "  \"ok\": true,\n"
        "  \"none\": null,\n"
        "  \"scores\": [0.5, -1.25],\n"
        "  \"groups\": [\n"
        "    {\n"
        "      \"label\": \"cD_1\",\n"
        "      \"score\": 2.0\n"
        "    }\n"
        "  ]\n"
        "}");
  CHECK(Json::array().dump() == "[]");
  CHECK(Json::object().dump() == "{}");
  CHECK(Json(std::vector<int64_t>{1, -2}).dump() == "[1, -2]");
  CHECK_THROWS_AS(Json(1).push(2), ValueError);
  CHECK_THROWS_AS(Json::array().set("k", 1), ValueError);
}

TEST_CASE("Json rejects NaN and infinity naming where they are, or writes null", "[io][json]") {
  Json doc = Json::object();
  Json groups = Json::array();
  for (int i = 0; i < 4; ++i) groups.push(Json::object().set("score", i == 3 ? std::nan("") : 1.0 * i));
  doc.set("groups", groups);
  try {
    (void)doc.dump();
    FAIL("NaN was serialised");
  } catch (const ValueError& e) {
    CHECK_THAT(e.what(), Catch::Contains("$.groups[3].score is NaN"));
  }
  CHECK_THAT(doc.dump(0, io::NonFinite::Null), Catch::Contains("{\"score\": null}"));
  Json inf = Json::object().set("delta", -INFINITY);
  CHECK_THROWS_WITH(inf.dump(), Catch::Contains("$.delta is infinite"));
}

TEST_CASE("write_json writes whole files or nothing", "[io][json]") {
  TempDir dir("json");
  const std::string path = dir.file("summary.json");
  io::write_json(path, Json::object().set("a", 1));
  CHECK(read_text(path) == "{\n  \"a\": 1\n}\n");

  // A NaN: the previous file stays as it was and no temporary is left.
  CHECK_THROWS_WITH(io::write_json(path, Json::object().set("a", std::nan(""))),
                    Catch::Contains("summary.json") && Catch::Contains("$.a is NaN"));
  CHECK(read_text(path) == "{\n  \"a\": 1\n}\n");
  CHECK(dir.entries() == std::vector<std::string>{"summary.json"});

  // A folder that does not exist: IoError naming the file.
  CHECK_THROWS_AS(io::write_json(dir.file("missing/summary.json"), Json()), IoError);
  CHECK_THROWS_WITH(io::write_json(dir.file("missing/summary.json"), Json()), Catch::Contains("missing/summary.json"));
}
