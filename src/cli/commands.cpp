#include "commands.hpp"

namespace trim::cli {

const std::vector<Command>& all_commands() {
  static const std::vector<Command> commands = {info_command(),      predict_command(), transform_command(),
                                                inverse_command(),   attribute_command(), sweep_command(),
                                                nmf_command(),       evaluate_command(), compare_methods_command()};
  return commands;
}

OptionSpec output_option(const std::string& what) { return {"output", "FILE", "where to write " + what, 'o'}; }

OptionSpec quiet_option() {
  return {"quiet", "", "no progress bar (it is shown only on a terminal, for runs longer than a second) and no "
                       "summary line"};
}

OptionSpec target_option() { return {"target", "K[,K...]|all", "output indices to explain (default: all)"}; }

std::vector<PositionalSpec> model_and_input() {
  return {{"MODEL.onnx", "the model (one input, one output)"},
          {"INPUT.npy", "one example (the model's per-example shape) or a batch (one more leading axis)"}};
}

}  // namespace trim::cli
