// SHA-256 against the FIPS 180-4 / NIST example vectors (one-block,
// two-block, 896-bit and one-million-'a' messages, and the empty message),
// fed whole, byte by byte and across block boundaries, and for a file.
#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "temp_dir.hpp"
#include "trim/core/error.hpp"
#include "trim/io/sha256.hpp"

using namespace trim;

TEST_CASE("sha256: the NIST example messages", "[io][sha256]") {
  CHECK(io::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(io::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(io::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(io::sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                       "mnopqrstnopqrstu") == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  const std::string million(1000000, 'a');
  CHECK(io::sha256_hex(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: incremental updates give the same digest as one", "[io][sha256]") {
  const std::string m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  for (size_t step : {size_t(1), size_t(7), size_t(55), size_t(64)}) {
    io::Sha256 s;
    for (size_t i = 0; i < m.size(); i += step) s.update(m.substr(i, step));
    CHECK(s.hex() == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  }
}

TEST_CASE("sha256: files, and a clear error for a missing one", "[io][sha256]") {
  trim::test::TempDir dir("sha256");
  const std::string path = dir.file("abc.txt");
  std::ofstream(path, std::ios::binary) << "abc";
  CHECK(io::sha256_file(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  try {
    io::sha256_file(dir.file("missing.txt"));
    FAIL("no error");
  } catch (const IoError& e) {
    CHECK(std::string(e.what()).find("missing.txt") != std::string::npos);
  }
}
