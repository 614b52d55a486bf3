// Seeded mutation fuzzing of the SQL parser, run by ctest (the project builds with gcc, so this
// stands in for libFuzzer; parser_libfuzzer.cc is the clang-only twin).
//
// Seed:      --seed=N (default 1); a failure prints the seed and the input's index, and the same
//            flags replay it exactly.
// Workload:  --inputs=N mutants (default 20000) of a corpus of valid statements, each parsed with
//            ParseScript. Mutations, 1 to 4 per input: flip, insert, delete or duplicate bytes;
//            insert a token from a dictionary of keywords and symbols; splice in a piece of another
//            corpus entry; wrap "1" in 1..3*max_depth levels of "(", "NOT ", "- ", "f(",
//            "(SELECT " or "a IN (" (1% of the time 20000..60000 levels);
//            a chain of 1..3*max_depth binary operators (1%: 20000..60000); truncate.
// Faults:    --plant=no_depth_limit parses with ParserOptions::testing_ignore_depth_limit, a
// planted
//            bug the checkers must catch (its ctest passes only when this program fails).
// Checkers:  no crash (a crash fails the ctest); every error is INVALID_ARGUMENT with a position
//            whose line and column agree with its offset, inside the text; every accepted script
//            renders with ToSql to text that parses back (with room for the parentheses ToSql
//            adds) to the same rendering; no accepted
//            script nests '(' deeper than max_depth + 2 (the limit, measured independently of the
//            parser by counting tokens).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/random.h"
#include "sql_lite/lexer.h"
#include "sql_lite/parser.h"

namespace meridian::sql {
namespace {

const char* const kCorpus[] = {
    "SELECT 1 + 1",
    "SELECT DISTINCT a, b AS x FROM t WHERE a > 1 AND b IS NOT NULL ORDER BY a DESC LIMIT 5",
    "SELECT t.*, COUNT(*) FROM t AS x JOIN u ON x.id = u.id LEFT OUTER JOIN v ON v.k = u.k "
    "GROUP BY t.a HAVING COUNT(DISTINCT u.b) > 2",
    "SELECT a FROM t WHERE a IN (1, 2, 3) OR a NOT BETWEEN -5 AND 5 OR s LIKE 'x%'",
    "SELECT (SELECT MAX(b) FROM u WHERE u.a = t.a), CAST(a AS STRING) || '!' FROM t",
    "SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u) AND a NOT IN (SELECT b FROM v) LIMIT @n "
    "OFFSET 2",
    "SELECT 'it''s', b'x', x'00ff', TRUE, NULL, 1.5e-3, TIMESTAMP '2026-12-07 10:00:00+00', @p",
    "INSERT INTO t (a, b) VALUES (1, 'x'), (2, NULL)",
    "INSERT OR UPDATE INTO \"T\" (`a`) VALUES (-9223372036854775808)",
    "UPDATE t SET a = a * 2 % 7, b = 'y' WHERE k = @k",
    "DELETE FROM t WHERE NOT (a = 1)",
    "CREATE TABLE t (a INT64 NOT NULL, b STRING(MAX), c BYTES(10), d FLOAT64, e BOOL, "
    "f TIMESTAMP, PRIMARY KEY (a, b DESC)) INTERLEAVE IN PARENT p ON DELETE CASCADE",
    "CREATE TABLE IF NOT EXISTS c (p INT64, id INT64) PRIMARY KEY (p, id), INTERLEAVE IN PARENT p",
    "CREATE UNIQUE INDEX IF NOT EXISTS i ON t (a DESC, b) STORING (c)",
    "DROP TABLE IF EXISTS t; DROP INDEX i",
    "BEGIN; BEGIN READ ONLY; COMMIT; ROLLBACK",
    "SET READ_TIMESTAMP = TIMESTAMP '2026-12-07 10:00:00'; SET STALENESS = 1000; "
    "SET READ_TIMESTAMP = DEFAULT",
    "EXPLAIN SELECT a FROM t -- comment\n WHERE /* c */ a = 1",
};

const char* const kDictionary[] = {
    "SELECT",
    "FROM",
    "WHERE",
    "(",
    ")",
    ",",
    ";",
    ".",
    "*",
    "+",
    "-",
    "/",
    "%",
    "||",
    "=",
    "!=",
    "<>",
    "<=",
    "NOT",
    "AND",
    "OR",
    "IN",
    "IS",
    "NULL",
    "BETWEEN",
    "LIKE",
    "CAST",
    "AS",
    "EXISTS",
    "JOIN",
    "LEFT",
    "ON",
    "GROUP BY",
    "ORDER BY",
    "LIMIT",
    "OFFSET",
    "'s'",
    "'",
    "\"",
    "`",
    "x'0",
    "b'",
    "@",
    "@p",
    "--",
    "/*",
    "*/",
    "1e999",
    "9223372036854775808",
    ".5",
    "TIMESTAMP",
    "INSERT",
    "VALUES",
    "CREATE",
    "TABLE",
    "INDEX",
    "PRIMARY KEY",
    "INTERLEAVE IN PARENT",
    "DROP",
    "EXPLAIN",
    "SET",
    "DEFAULT",
    "\n",
    "\xff",
    "\0",
};

const char* const kNesting[] = {"(", "NOT ", "- ", "f(", "(SELECT ", "a IN ("};

struct Options {
  uint64_t seed = 1;
  int inputs = 20000;
  bool plant_no_depth_limit = false;
};

std::string Mutate(Random& rng, std::string s, const ParserOptions& limits) {
  const int mutations = static_cast<int>(rng.Range(1, 4));
  for (int m = 0; m < mutations; ++m) {
    const size_t at = s.empty() ? 0 : rng.Uniform(s.size() + 1);
    switch (rng.Uniform(10)) {
      case 0:
        if (!s.empty() && at < s.size()) s[at] = static_cast<char>(rng.Next());
        break;
      case 1:
        s.insert(at, 1, static_cast<char>(rng.Range(32, 126)));
        break;
      case 2:
        s.erase(at, rng.Uniform(8));
        break;
      case 3:
        s.insert(at, s.substr(at, rng.Uniform(16)));
        break;
      case 4:
      case 5: {
        const std::string_view word = kDictionary[rng.Uniform(std::size(kDictionary))];
        s.insert(at, " " + std::string(word.empty() ? std::string_view("\0", 1) : word) + " ");
        break;
      }
      case 6: {
        const std::string other = kCorpus[rng.Uniform(std::size(kCorpus))];
        const size_t from = rng.Uniform(other.size());
        s.insert(at, other.substr(from, rng.Uniform(40)));
        break;
      }
      case 7: {
        // Deep nesting around the rest of the text, sometimes past the limit.
        const std::string open = kNesting[rng.Uniform(std::size(kNesting))];
        // Now and then deep enough to overflow the stack of a parser without its limit.
        const int64_t levels =
            rng.Bernoulli(0.01) ? rng.Range(20000, 60000) : rng.Range(1, 3 * limits.max_depth);
        std::string prefix;
        for (int64_t i = 0; i < levels; ++i) prefix += open;
        s = "SELECT " + prefix + "1" + std::string(rng.Bernoulli(0.5) ? levels : 0, ')');
        break;
      }
      case 8: {
        // A long chain of binary operators: a tall tree without any nesting.
        static const char* const kOps[] = {" + 1", " * 2", " AND a", " OR a", " = 1", " || 'x'"};
        const std::string op = kOps[rng.Uniform(std::size(kOps))];
        const int64_t length =
            rng.Bernoulli(0.01) ? rng.Range(20000, 60000) : rng.Range(1, 3 * limits.max_depth);
        std::string chain = "SELECT a";
        for (int64_t i = 0; i < length; ++i) chain += op;
        s = chain;
        break;
      }
      default:
        s.resize(at);
        break;
    }
  }
  return s;
}

// Where `offset` is in `text`, as SourcePos counts it.
SourcePos PositionOf(std::string_view text, int32_t offset) {
  SourcePos pos;
  for (int32_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++pos.line;
      pos.column = 1;
    } else {
      ++pos.column;
    }
  }
  pos.offset = offset;
  return pos;
}

int MaxParenDepth(std::string_view text) {
  const absl::StatusOr<std::vector<Token>> tokens = Tokenize(text);
  if (!tokens.ok()) return -1;
  int depth = 0, max_depth = 0;
  for (const Token& t : *tokens) {
    if (t.kind != TokenKind::kSymbol) continue;
    if (t.text == "(") max_depth = std::max(max_depth, ++depth);
    if (t.text == ")") --depth;
  }
  return max_depth;
}

// Empty when every checker passes; otherwise what failed.
std::string Check(const std::string& input, const ParserOptions& options) {
  const absl::StatusOr<std::vector<Statement>> script = ParseScript(input, options);
  if (!script.ok()) {
    if (script.status().code() != absl::StatusCode::kInvalidArgument) return "error code";
    const std::optional<SourcePos> pos = ErrorPosition(script.status());
    if (!pos.has_value()) return "error without a position";
    if (pos->offset < 0 || static_cast<size_t>(pos->offset) > input.size()) return "bad offset";
    if (!(PositionOf(input, pos->offset) == *pos)) return "line/column disagree with offset";
    return "";
  }
  std::string rendered;
  for (const Statement& s : *script) rendered += ToSql(s) + ";\n";
  // ToSql parenthesizes every compound expression, so near the limit its text nests deeper than
  // the input did (ast.h); read it back with room for that.
  ParserOptions reparse = options;
  reparse.max_depth = 4 * options.max_depth;
  const absl::StatusOr<std::vector<Statement>> again = ParseScript(rendered, reparse);
  if (!again.ok()) return "rendering does not parse: " + std::string(again.status().message());
  std::string rerendered;
  for (const Statement& s : *again) rerendered += ToSql(s) + ";\n";
  if (rerendered != rendered) return "round trip changed the rendering";
  const int depth = MaxParenDepth(input);
  if (depth > ParserOptions().max_depth + 2) return "accepted nesting deeper than the limit";
  return "";
}

bool ParseFlags(int argc, char** argv, Options* options) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.rfind("--seed=", 0) == 0) {
      options->seed = std::strtoull(argv[i] + 7, nullptr, 10);
    } else if (arg.rfind("--inputs=", 0) == 0) {
      options->inputs = std::atoi(argv[i] + 9);
    } else if (arg == "--plant=no_depth_limit") {
      options->plant_no_depth_limit = true;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return false;
    }
  }
  return true;
}

int Run(const Options& options) {
  ParserOptions parser_options;
  parser_options.testing_ignore_depth_limit = options.plant_no_depth_limit;
  Random rng(options.seed);
  int accepted = 0;
  for (int i = 0; i < options.inputs; ++i) {
    const std::string input = Mutate(rng, kCorpus[rng.Uniform(std::size(kCorpus))], parser_options);
    const std::string failure = Check(input, parser_options);
    if (!failure.empty()) {
      std::fprintf(stderr, "FAILED seed=%llu input #%d: %s\ninput (%zu bytes): %.300s\n",
                   static_cast<unsigned long long>(options.seed), i, failure.c_str(), input.size(),
                   input.c_str());
      return 1;
    }
    accepted += ParseScript(input, parser_options).ok() ? 1 : 0;
  }
  std::printf("seed=%llu: %d inputs, %d accepted, every checker passed\n",
              static_cast<unsigned long long>(options.seed), options.inputs, accepted);
  return 0;
}

}  // namespace
}  // namespace meridian::sql

int main(int argc, char** argv) {
  meridian::sql::Options options;
  if (!meridian::sql::ParseFlags(argc, argv, &options)) return 2;
  return meridian::sql::Run(options);
}
