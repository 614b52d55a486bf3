// The sizes the servers accept, shared by the servers (which refuse anything larger) and the
// layers above the SDK that must refuse it first with an error of their own (sql_lite).
#ifndef MERIDIAN_COMMON_LIMITS_H_
#define MERIDIAN_COMMON_LIMITS_H_

#include <cstddef>

namespace meridian {

inline constexpr size_t kMaxKeyBytes = 4 << 10;
inline constexpr size_t kMaxValueBytes = 1 << 20;

}  // namespace meridian

#endif  // MERIDIAN_COMMON_LIMITS_H_
