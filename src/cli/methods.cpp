#include "methods.hpp"

#include "args.hpp"

namespace trim::cli {

const Method& find_method(const std::string& name) {
  if (const Method* m = find_attribution_method(name)) return *m;
  throw UsageError("unknown method '" + name + "' (known: " + attribution_method_names() + ")");
}

}  // namespace trim::cli
