// Key encoding: byte order of encodings equals value order, on random inputs, and every encoding
// round-trips and rejects truncated input.
#include "common/key_encoding.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "common/random.h"

namespace meridian::keyenc {
namespace {

constexpr int kPairs = 20000;

int Sign(int c) { return (c > 0) - (c < 0); }

// Strings biased towards the bytes that need escaping and towards shared prefixes.
std::string RandomKey(Random& rng) {
  static constexpr char kAlphabet[] = {'\0', '\x01', '\xff', 'a', 'b'};
  std::string s;
  const size_t n = rng.Uniform(6);
  for (size_t i = 0; i < n; ++i) {
    s.push_back(rng.Bernoulli(0.7) ? kAlphabet[rng.Uniform(5)]
                                   : static_cast<char>(rng.Uniform(256)));
  }
  return s;
}

int64_t RandomInt(Random& rng) {
  switch (rng.Uniform(4)) {
    case 0:
      return rng.Range(-3, 3);
    case 1:
      return rng.Bernoulli(0.5) ? std::numeric_limits<int64_t>::min()
                                : std::numeric_limits<int64_t>::max();
    default:
      return static_cast<int64_t>(rng.Next());
  }
}

TEST(KeyEncodingTest, BytesOrderMatchesValueOrder) {
  Random rng(1);
  for (int i = 0; i < kPairs; ++i) {
    const std::string a = RandomKey(rng), b = RandomKey(rng);
    std::string ea, eb;
    AppendBytes(&ea, a);
    AppendBytes(&eb, b);
    ASSERT_EQ(Sign(a.compare(b)), Sign(ea.compare(eb))) << i;
  }
}

TEST(KeyEncodingTest, CompositeKeysSortComponentByComponent) {
  Random rng(2);
  for (int i = 0; i < kPairs; ++i) {
    const std::string a1 = RandomKey(rng), a2 = RandomKey(rng);
    const std::string b1 = rng.Bernoulli(0.5) ? a1 : RandomKey(rng), b2 = RandomKey(rng);
    const int64_t ta = RandomInt(rng), tb = RandomInt(rng);
    std::string ea, eb;
    AppendBytes(&ea, a1);
    AppendBytes(&ea, a2);
    AppendDescendingInt64(&ea, ta);
    AppendBytes(&eb, b1);
    AppendBytes(&eb, b2);
    AppendDescendingInt64(&eb, tb);
    const auto va = std::make_tuple(a1, a2, -static_cast<__int128>(ta));
    const auto vb = std::make_tuple(b1, b2, -static_cast<__int128>(tb));
    const int expected = va < vb ? -1 : (vb < va ? 1 : 0);
    ASSERT_EQ(expected, Sign(ea.compare(eb))) << i;
  }
}

TEST(KeyEncodingTest, IntegerOrderMatchesValueOrder) {
  Random rng(3);
  for (int i = 0; i < kPairs; ++i) {
    const int64_t a = RandomInt(rng), b = RandomInt(rng);
    const uint64_t ua = rng.Next(), ub = rng.Bernoulli(0.1) ? ua : rng.Next();
    std::string sa, sb, da, db, ia, ib;
    AppendInt64(&sa, a);
    AppendInt64(&sb, b);
    AppendDescendingInt64(&da, a);
    AppendDescendingInt64(&db, b);
    AppendUint64(&ia, ua);
    AppendUint64(&ib, ub);
    const int cmp = (a > b) - (a < b);
    ASSERT_EQ(cmp, Sign(sa.compare(sb)));
    ASSERT_EQ(-cmp, Sign(da.compare(db)));
    ASSERT_EQ((ua > ub) - (ua < ub), Sign(ia.compare(ib)));
  }
}

TEST(KeyEncodingTest, RoundTrips) {
  Random rng(4);
  for (int i = 0; i < 2000; ++i) {
    const std::string key = RandomKey(rng);
    const int64_t s = RandomInt(rng), d = RandomInt(rng);
    const uint64_t u = rng.Next();
    std::string enc;
    AppendBytes(&enc, key);
    AppendInt64(&enc, s);
    AppendDescendingInt64(&enc, d);
    AppendUint64(&enc, u);
    std::string_view in = enc;
    std::string key2;
    int64_t s2, d2;
    uint64_t u2;
    ASSERT_TRUE(ConsumeBytes(&in, &key2).ok());
    ASSERT_TRUE(ConsumeInt64(&in, &s2).ok());
    ASSERT_TRUE(ConsumeDescendingInt64(&in, &d2).ok());
    ASSERT_TRUE(ConsumeUint64(&in, &u2).ok());
    EXPECT_TRUE(in.empty());
    EXPECT_EQ(key, key2);
    EXPECT_EQ(s, s2);
    EXPECT_EQ(d, d2);
    EXPECT_EQ(u, u2);
  }
}

TEST(KeyEncodingTest, RejectsTruncatedAndMalformedInput) {
  std::string enc;
  AppendBytes(&enc, std::string("a\0b", 3));
  for (size_t cut = 0; cut < enc.size(); ++cut) {
    std::string_view in(enc.data(), cut);
    std::string out;
    EXPECT_EQ(ConsumeBytes(&in, &out).code(), absl::StatusCode::kInvalidArgument) << cut;
  }
  std::string_view bad("a\0\x07", 3);
  std::string out;
  EXPECT_EQ(ConsumeBytes(&bad, &out).code(), absl::StatusCode::kInvalidArgument);
  std::string_view short_int("\x01\x02", 2);
  uint64_t u;
  EXPECT_EQ(ConsumeUint64(&short_int, &u).code(), absl::StatusCode::kInvalidArgument);
}

TEST(KeyEncodingTest, PrefixSuccessor) {
  EXPECT_EQ(PrefixSuccessor("ab"), "ac");
  EXPECT_EQ(PrefixSuccessor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixSuccessor(std::string("\xff\xff", 2)), "");
  EXPECT_EQ(PrefixSuccessor(""), "");
}

}  // namespace
}  // namespace meridian::keyenc
