// A seeded pseudo-random generator (xoshiro256**, seeded through splitmix64).
//
// Every component that needs randomness takes a `Random&` (or a seed) by injection, so a test or a
// simulator run replays exactly from its seed. Nothing in Meridian reads std::random_device.
// Not thread-safe: give each thread or strand its own generator (see Fork()).
#ifndef MERIDIAN_COMMON_RANDOM_H_
#define MERIDIAN_COMMON_RANDOM_H_

#include <cstdint>
#include <string>

namespace meridian {

class Random {
 public:
  explicit Random(uint64_t seed);

  // Uniform over all 64-bit values.
  uint64_t Next();
  // Uniform in [0, n). n must be > 0.
  uint64_t Uniform(uint64_t n);
  // Uniform in [lo, hi]. Requires lo <= hi.
  int64_t Range(int64_t lo, int64_t hi);
  // True with probability p (clamped to [0, 1]).
  bool Bernoulli(double p);
  // Uniform in [0, 1).
  double NextDouble();
  // `n` uniformly random bytes.
  std::string Bytes(size_t n);
  // A new generator whose sequence is independent of this one's future output.
  Random Fork();

 private:
  uint64_t s_[4];
};

}  // namespace meridian

#endif  // MERIDIAN_COMMON_RANDOM_H_
