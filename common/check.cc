#include "common/check.h"

#include <cstdio>
#include <cstdlib>

namespace meridian::internal {

void CheckFailed(const char* condition, const char* file, int line, std::string_view message) {
  std::fprintf(stderr, "CHECK failed: %s at %s:%d%s%.*s\n", condition, file, line,
               message.empty() ? "" : ": ", static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace meridian::internal
