#include "server/changefeed_access.hpp"

#include "protocol/wire.hpp"
#include "server/changefeed_catalog.hpp"
#include "server/changefeed_tables.hpp"

namespace tidewire::server {

namespace err = wire::error;

ChangefeedSubscribeCheck check_changefeed_subscribe(ChangefeedCatalog* catalog, std::string_view channel,
                                                    const nlohmann::json* changes, std::string_view user) {
  ChangefeedSubscribeCheck out;
  auto filter = std::make_shared<ChangeFilter>();
  if (std::string error; !parse_change_filter(changes, *filter, error)) {
    out.code = err::kBadFilter;
    out.message = error;
    return out;
  }
  out.code = err::kUnknownTable;
  if (!catalog) {
    out.message = "this server has no database change feed (--database and --changefeed-tables)";
    return out;
  }
  const auto name = parse_db_channel(channel);
  if (!name) {
    out.message = "db: channels are named db:<schema>.<table>";
    return out;
  }
  const ChangefeedTable* table = catalog->table(name->first, name->second);
  if (!table) {
    out.message = "table " + name->first + "." + name->second + " is not in the server's --changefeed-tables";
    return out;
  }
  const auto known = [&](const std::shared_ptr<const TableColumns>& cols) {
    return cols && (table->owner_column.empty() || cols->count(table->owner_column)) &&
           (filter->column.empty() || cols->count(filter->column));
  };
  std::shared_ptr<const TableColumns> cols = catalog->columns(*table, false);
  if (!known(cols)) cols = catalog->columns(*table, true);  // bounded refresh: DDL since the last one
  if (!cols) {
    out.message = "table " + table->qualified() + " does not exist in the database";
    return out;
  }
  if (!table->owner_column.empty() && !cols->count(table->owner_column)) {
    out.message = "table " + table->qualified() + " has no column " + table->owner_column +
                  " (its owner column in --changefeed-tables)";
    return out;
  }
  out.code = err::kBadFilter;
  if (!filter->column.empty()) {
    const auto type = cols->find(filter->column);
    if (type == cols->end()) {
      out.message = "table " + table->qualified() + " has no column " + filter->column;
      return out;
    }
    if (ChangefeedCatalog::is_numeric_type(type->second)) {
      if (std::string error; !set_numeric(*filter, error)) {
        out.message = error;
        return out;
      }
    }
  }
  filter->owner_column = table->owner_column;
  filter->owner = std::string(user);
  out.code = {};
  if (!filter->passes_everything()) out.filter = std::move(filter);
  return out;
}

}  // namespace tidewire::server
