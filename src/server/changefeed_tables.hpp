// The tables of the database change feed (--changefeed-tables, issue #16) and their channel names.
//
//   --changefeed-tables public.todos(user_id),public.notes   ->  db:public.todos (owner column user_id),
//                                                                db:public.notes (no owner rule)
// Identifiers are [A-Za-z_][A-Za-z0-9_]* and folded to lower case, as Postgres stores unquoted names.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tidewire::server {

struct ChangefeedTable {
  std::string schema;
  std::string table;
  std::string owner_column;  // "" = no owner rule
  std::string qualified() const { return schema + "." + table; }
  std::string channel() const;  // db:<schema>.<table>
};

// Parses the flag's value. Empty `error` on success (an empty value is an empty list).
std::vector<ChangefeedTable> parse_changefeed_tables(std::string_view value, std::string& error);

// True for [A-Za-z_][A-Za-z0-9_]* (at most 63 bytes, Postgres's NAMEDATALEN - 1).
bool is_plain_identifier(std::string_view s);

// "db:public.todos" -> {"public", "todos"}; nullopt when `channel` is not a well-formed db: channel name.
std::optional<std::pair<std::string, std::string>> parse_db_channel(std::string_view channel);

bool is_db_channel(std::string_view channel);

}  // namespace tidewire::server
