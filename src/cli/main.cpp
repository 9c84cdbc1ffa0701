// The `trim` command-line tool (issue 7; being written).
#include <cstdio>

int main() {
  std::fprintf(stderr, "trim: not yet implemented\n");
  return 1;
}
