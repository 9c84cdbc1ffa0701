// split_affine_prefix: where the cut falls (chains, branches that join
// before or after a nonlinearity, extra inputs, products with constants),
// and that prefix then suffix computes the graph.
#include "testing.hpp"
#include "trim/graph/layers.hpp"
#include "trim/graph/nn.hpp"
#include "trim/graph/split.hpp"

using namespace trim;
using test::randn;

namespace {

std::string cut_name(const Graph& g) {
  const std::optional<GraphSplit> s = split_affine_prefix(g);
  return s ? g.node(s->cut).name : "";
}

/// suffix(prefix(x), extras...) equals the graph on (x, extras...).
void require_split_computes(const Graph& g, const std::vector<Tensor>& inputs) {
  const std::optional<GraphSplit> s = split_affine_prefix(g);
  REQUIRE(s);
  const Tensor z = s->prefix.evaluate(inputs[0]);
  std::vector<Tensor> rest{z};
  rest.insert(rest.end(), inputs.begin() + 1, inputs.end());
  test::require_close(s->suffix.evaluate(rest)[0], g.evaluate(inputs)[0], 1e-5, 1e-3, "suffix(prefix)");
}

}  // namespace

TEST_CASE("split_affine_prefix: the cut is the last affine node every path passes", "[graph][split]") {
  SECTION("a chain: conv, batch norm, then ReLU") {
    Graph g(1);
    NodeId x = nn::input(g, "x", {2, 6, 6});
    x = nn::batch_norm(g, nn::conv2d(g, x, 3, {3, 3}, "conv"), "bn");
    x = nn::relu(g, x);
    g.set_outputs({nn::linear(g, nn::flatten(g, x), 2, "fc")});
    g.finalize();
    REQUIRE(cut_name(g) == "bn");
    require_split_computes(g, {randn({3, 2, 6, 6}, 2)});
    const std::optional<GraphSplit> s = split_affine_prefix(g);
    // The weights are borrowed, not copied.
    REQUIRE(s->prefix.parameter("conv.weight").value.data() == g.parameter("conv.weight").value.data());
    REQUIRE(s->suffix.parameter("fc.weight").value.data() == g.parameter("fc.weight").value.data());
    REQUIRE(s->prefix.num_nodes() == 3);  // x, conv, bn and nothing after
  }
  SECTION("two affine branches joined by a sum, a product with a constant") {
    Graph g(3);
    NodeId x = nn::input(g, "x", {4});
    const NodeId c = nn::constant(g, randn({1, 4}, 4), "c");
    const NodeId a = nn::multiply(g, nn::linear(g, x, 4, "fa"), c, "scaled");
    const NodeId b = nn::linear(g, x, 4, "fb");
    x = nn::tanh(g, nn::add(g, a, b, "join"));
    g.set_outputs({nn::linear(g, x, 2, "out")});
    g.finalize();
    REQUIRE(is_affine_node(g, g.find_node("scaled")));
    REQUIRE(cut_name(g) == "join");
    require_split_computes(g, {randn({5, 4}, 5)});
  }
  SECTION("a branch that passes a nonlinearity before it joins: cut before the branch") {
    Graph g(6);
    NodeId x = nn::input(g, "x", {4});
    const NodeId l = nn::linear(g, x, 4, "l");
    const NodeId r = nn::linear(g, nn::relu(g, l), 4, "r");
    x = nn::add(g, l, r, "join");
    g.set_outputs({nn::linear(g, nn::tanh(g, x), 2, "out")});
    g.finalize();
    REQUIRE(cut_name(g) == "l");
    require_split_computes(g, {randn({5, 4}, 7)});
  }
  SECTION("an extra input stays in the suffix") {
    Graph g(8);
    NodeId x = nn::input(g, "x", {4});
    const NodeId e = nn::input(g, "e", {4});
    x = nn::add(g, nn::linear(g, x, 4, "l"), e, "plus_e");
    g.set_outputs({nn::linear(g, nn::relu(g, x), 2, "out")});
    g.finalize();
    REQUIRE(cut_name(g) == "l");
    const std::optional<GraphSplit> s = split_affine_prefix(g);
    REQUIRE(s->prefix.inputs().size() == 1);
    REQUIRE(s->suffix.inputs().size() == 2);
    REQUIRE(s->suffix.node(s->suffix.inputs()[1]).name == "e");
    require_split_computes(g, {randn({5, 4}, 9), randn({5, 4}, 10)});
  }
  SECTION("no cut: a nonlinear first node, a product of two data tensors, an all-affine graph ends before its output") {
    Graph g(11);
    NodeId x = nn::input(g, "x", {4});
    g.set_outputs({nn::linear(g, nn::relu(g, x), 2, "out")});
    g.finalize();
    REQUIRE(cut_name(g).empty());
    Graph p(12);
    x = nn::input(p, "x", {4});
    const NodeId sq = nn::multiply(p, nn::linear(p, x, 4, "a"), nn::linear(p, x, 4, "b"), "ab");
    p.set_outputs({nn::linear(p, sq, 2, "out")});
    p.finalize();
    REQUIRE_FALSE(is_affine_node(p, p.find_node("ab")));
    REQUIRE(cut_name(p).empty());  // a and b are both live until the product
    Graph l(13);
    x = nn::input(l, "x", {4});
    l.set_outputs({nn::linear(l, nn::linear(l, x, 4, "a"), 2, "out")});
    l.finalize();
    REQUIRE(cut_name(l) == "a");  // the output itself is never the cut
  }
}
