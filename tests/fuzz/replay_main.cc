// The main of fuzz_replay_<name>: runs a fuzz harness's LLVMFuzzerTestOneInput once on every file
// named on the command line, or in a directory named there, as libFuzzer would run a corpus. It
// lets the g++ build (and the sanitizer builds) replay the committed corpora as unit tests without
// libFuzzer. A harness reports a broken property by aborting, so this exits 0 only if every input
// passed; an empty corpus is an error (a typo in the path must not pass).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) inputs.push_back(entry.path());
      }
    } else {
      inputs.push_back(arg);
    }
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "usage: %s <corpus dir or file>... (no inputs found)\n", argv[0]);
    return 2;
  }
  for (const auto& path : inputs) {
    const std::string bytes = ReadFile(path);
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("%zu inputs passed\n", inputs.size());
  return 0;
}
