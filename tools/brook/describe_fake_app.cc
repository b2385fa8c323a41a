// A stand-in application for describe_test: it keeps the --describe
// contract of the example programs (the description, exactly, on stdout
// and exit 0) and fails the way a program without the flag would.
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--describe=text") == 0) {
    std::fputs("Topologies:\n   Sub-topology: 0\n    Source: in\n", stdout);
    return 0;
  }
  if (argc == 2 && std::strcmp(argv[1], "--describe=dot") == 0) {
    std::fputs("digraph { in -> out }\n", stdout);
    return 0;
  }
  std::fputs("fake app: unknown flag\n", stderr);
  return 3;
}
