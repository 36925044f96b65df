// A change-feed subscriber's filter (issue #16, PROTOCOL "Database changes"): the `changes` of its subscribe
// ({event, filter}) and the table's owner rule, applied by the hub to each change before it is handed over.
//
//   event   INSERT | UPDATE | DELETE | *            (default *)
//   filter  column=op.value, op in eq neq lt lte gt gte in (in.(a,b,c)), like PostgREST
//   owner   --changefeed-tables schema.table(owner_col): only rows whose owner_col equals the token's sub
//
// Which record is tested: `new` for INSERT and UPDATE, `old` for DELETE (present only for the replica-identity
// columns unless REPLICA IDENTITY FULL; a column missing there does not match). The owner rule is checked on
// `new` (when present) and on `old` (when it has the owner column); a DELETE whose `old` lacks the owner column is
// withheld. Values compare as numbers when the column is numeric, else as text (byte order, not a collation);
// null never matches.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/changefeed_row.hpp"

namespace tidewire::server {

struct ChangeFilter {
  enum class Event { kAll, kInsert, kUpdate, kDelete };
  enum class Op { kEq, kNeq, kLt, kLte, kGt, kGte, kIn };
  Event event = Event::kAll;
  std::string column;               // "" = no column filter
  Op op = Op::kEq;
  std::vector<std::string> values;  // one, or the in-list
  bool numeric = false;             // the column is numeric: `numbers` holds the values
  std::vector<double> numbers;
  std::string owner_column;         // "" = no owner rule
  std::string owner;                // the subscriber's sub

  bool accepts(const ChangeRow& row) const;
  // Nothing to filter: the subscriber takes every change (the hub's plain encode-once path).
  bool passes_everything() const { return event == Event::kAll && column.empty() && owner_column.empty(); }
};

// Parses a subscribe's `changes` (null or absent: everything). False with `error` (a bad_filter message).
// `numeric` is left for the caller, who knows the column's type (set_numeric()).
bool parse_change_filter(const nlohmann::json* changes, ChangeFilter& out, std::string& error);

// Marks the filter numeric and converts its values; false (with `error`) when one is not a number.
bool set_numeric(ChangeFilter& filter, std::string& error);

}  // namespace tidewire::server
