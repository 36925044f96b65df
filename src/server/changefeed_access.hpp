// Who may watch which table, checked at subscribe to a db:<schema>.<table> channel (issue #16; README "Database
// changes", access model). After the channel_access rules (the token's `channels` claim: forbidden):
//   - the table must be in --changefeed-tables and in the database (unknown_table);
//   - `changes` must parse and its filter column exist, with a number for a numeric column (bad_filter);
//   - an owner table (schema.table(owner_col)) adds the rule owner_col = the token's sub to the filter.
// The result is the subscriber's ChangeFilter (null when it sees every change). No RLS evaluation: the server
// reads the WAL as the replication user; these rules are all that stands between a client and a row.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "server/changefeed_filter.hpp"

namespace tidewire::server {

class ChangefeedCatalog;

struct ChangefeedSubscribeCheck {
  std::string_view code;  // "" when allowed, else wire::error::kBadFilter / kUnknownTable
  std::string message;
  std::shared_ptr<const ChangeFilter> filter;
};

// `catalog` null: the server has no change feed. `changes`: the subscribe's field (null when absent).
ChangefeedSubscribeCheck check_changefeed_subscribe(ChangefeedCatalog* catalog, std::string_view channel,
                                                    const nlohmann::json* changes, std::string_view user);

}  // namespace tidewire::server
