#include "commands.hpp"

namespace trim::cli {

const std::vector<Command>& all_commands() {
  static const std::vector<Command> commands = [] {
    std::vector<Command> c = {info_command(),      predict_command(), transform_command(),
                              inverse_command(),   attribute_command(), sweep_command(),
                              nmf_command(),       evaluate_command(), compare_methods_command()};
    for (Command& command : c) command.spec.options.push_back(threads_option());  // main.cpp applies it
    return c;
  }();
  return commands;
}

OptionSpec threads_option() {
  return {"threads", "N",
          "threads for trim's parallel loops (default: all cores, as OpenMP's default; OMP_NUM_THREADS sets it too). "
          "On a shared machine give your share of the cores, and set OMP_WAIT_POLICY=passive so that waiting threads "
          "sleep instead of spinning (docs/building.md)"};
}

OptionSpec output_option(const std::string& what) { return {"output", "FILE", "where to write " + what, 'o'}; }

OptionSpec quiet_option() {
  return {"quiet", "", "no progress report and no summary on success. Without it, long runs show a progress bar "
                       "with rate and time left on a terminal (after a second), or a progress line every 10 s when "
                       "stderr is a file or pipe; commands that write results print what they wrote"};
}

OptionSpec target_option() { return {"target", "K[,K...]|all", "output indices to explain (default: all)"}; }

std::vector<PositionalSpec> model_and_input() {
  return {{"MODEL.onnx", "the model (one input, one output)"},
          {"INPUT.npy", "one example (the model's per-example shape) or a batch (one more leading axis)"}};
}

}  // namespace trim::cli
