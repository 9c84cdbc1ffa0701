// The small text parsers of core/text.hpp that no other test covers.
#include "testing.hpp"
#include "trim/core/text.hpp"

using namespace trim;

TEST_CASE("parse_bytes and bytes_text", "[core][text]") {
  REQUIRE(parse_bytes("65536") == int64_t{65536});
  REQUIRE(parse_bytes("2G") == int64_t{2} << 30);
  REQUIRE(parse_bytes("2GB") == int64_t{2} << 30);
  REQUIRE(parse_bytes("2GiB") == int64_t{2} << 30);
  REQUIRE(parse_bytes("1.5k") == int64_t{1536});
  REQUIRE(parse_bytes("500M") == int64_t{500} << 20);
  for (const char* bad : {"", "G", "-1G", "0", "0.5", "2X", "2 G", "1e30T", "B"}) {
    INFO(bad);
    REQUIRE(!parse_bytes(bad));
  }
  REQUIRE(bytes_text(512) == "512 B");
  REQUIRE(bytes_text(1536) == "1.50 KiB");
  REQUIRE(bytes_text(int64_t{2} << 30) == "2.00 GiB");
}
