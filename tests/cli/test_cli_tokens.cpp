// The CLI on a token model (an int64 ids input read by an embedding): `info`
// says it is explained in the space of the embedding, and `predict` takes
// token ids, embeds them and matches PyTorch (tests/reference/make_reach_ops.py).
#include <string>

#include "cli_fixture.hpp"
#include "fixture.hpp"

using namespace trim;

TEST_CASE("cli: a token model takes ids and is explained in its embedding space", "[cli][tokens]") {
  test::CliFolder f;
  const std::string model = std::string(TRIM_FIXTURE_DIR) + "/reach/tokens_op17.onnx";
  const std::string info = test::run_ok(f, {"info", model}).out;
  CHECK(info.find("'ids' (token ids) is explained in the space of its embedding 'emb.weight' [40,8]") !=
        std::string::npos);
  CHECK(info.find("one example is [12,8]") != std::string::npos);

  const test::Fixture ref("reach/tokens.txt");
  io::write_npy(f.file("ids.npy"), ref["ids3"]);
  test::run_ok(f, {"predict", model, "ids.npy", "-o", "y.npy"});
  test::require_close(io::read_npy(f.file("y.npy")), ref["y3"], 1e-5, 1e-3, "predict from token ids");
  // The embedded sequence itself is accepted too.
  io::write_npy(f.file("emb.npy"), ref["x3"]);
  test::run_ok(f, {"predict", model, "emb.npy", "-o", "yx.npy"});
  CHECK(io::read_npy(f.file("yx.npy")).to_vector() == io::read_npy(f.file("y.npy")).to_vector());

  Tensor bad = ref["ids1"];
  bad[0] = 40.0f;
  io::write_npy(f.file("bad.npy"), bad);
  const test::RunResult r = test::run_trim({"predict", model, "bad.npy"}, f.dir.path.string());
  CHECK(r.status != 0);
  CHECK(r.err.find("token id 40") != std::string::npos);
}
