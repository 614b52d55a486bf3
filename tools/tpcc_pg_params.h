// sql_lite's @name parameters in PostgreSQL's numbered form, for the TPC-C driver's PostgreSQL
// backend (tpcc_pg.cc). Pure functions, unit-tested without a server.
#ifndef MERIDIAN_TOOLS_TPCC_PG_PARAMS_H_
#define MERIDIAN_TOOLS_TPCC_PG_PARAMS_H_

#include <string>
#include <vector>

#include "meridian/sql.h"

namespace meridian::tools::tpcc {

struct NumberedStatement {
  std::string text;                // with $1, $2, ...
  std::vector<std::string> names;  // names[i] is $(i + 1)
};

// Replaces each @name outside '...' literals by $k, the same name by the same k.
NumberedStatement NumberParameters(const std::string& statement);

// A parameter's text as PostgreSQL reads it for any type (not for NULL, sent as a null pointer):
// integers and floats in decimal, strings as they are, timestamps as ISO 8601 in UTC.
std::string ParameterText(const sql::Value& value);

}  // namespace meridian::tools::tpcc

#endif  // MERIDIAN_TOOLS_TPCC_PG_PARAMS_H_
