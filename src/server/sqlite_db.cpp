#include "server/sqlite_db.hpp"

#include <sqlite3.h>

#include <utility>

namespace tidewire::server {

SqliteStatement::~SqliteStatement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), bind_error_(other.bind_error_) {}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
  if (this != &other) {
    if (stmt_) sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_error_ = other.bind_error_;
  }
  return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::int64_t value) {
  if (!stmt_) return *this;
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::string_view text) {
  if (!stmt_) return *this;
  // A non-null pointer even for "" so that the value binds as an empty string, not NULL.
  const int rc = sqlite3_bind_text64(stmt_, index, text.empty() ? "" : text.data(), text.size(), SQLITE_TRANSIENT,
                                     SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

SqliteStatement& SqliteStatement::bind_null(int index) {
  if (!stmt_) return *this;
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

SqliteStatement& SqliteStatement::bind_optional(int index, const std::optional<std::int64_t>& value) {
  return value ? bind(index, *value) : bind_null(index);
}

int SqliteStatement::step() {
  if (!stmt_) return SQLITE_MISUSE;
  if (bind_error_ != SQLITE_OK) return bind_error_;
  return sqlite3_step(stmt_);
}

bool SqliteStatement::run() {
  int rc;
  while ((rc = step()) == SQLITE_ROW) {
  }
  return rc == SQLITE_DONE;
}

void SqliteStatement::reset() {
  if (!stmt_) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = SQLITE_OK;
}

std::int64_t SqliteStatement::int64(int column) const { return stmt_ ? sqlite3_column_int64(stmt_, column) : 0; }

std::string SqliteStatement::text(int column) const {
  if (!stmt_) return {};
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (!p) return {};
  return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

bool SqliteStatement::is_null(int column) const {
  return !stmt_ || sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

SqliteDb::~SqliteDb() { close(); }

void SqliteDb::close() {
  if (db_) sqlite3_close_v2(db_);  // _v2: tolerates statements a caller still holds (they finalize later)
  db_ = nullptr;
}

bool SqliteDb::open(const std::string& path) {
  close();
  error_.clear();
  const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    error_ = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    error_ = "cannot open " + path + ": " + error_;
    close();
    return false;
  }
  sqlite3_busy_timeout(db_, 5000);
  sqlite3_extended_result_codes(db_, 1);
  const bool memory = path == ":memory:" || path.empty();
  const bool ok = exec("PRAGMA foreign_keys = ON") &&
                  (memory || (exec("PRAGMA journal_mode = WAL") && exec("PRAGMA synchronous = NORMAL")));
  if (!ok) {
    error_ = "cannot configure " + path + ": " + last_error();
    close();
    return false;
  }
  return true;
}

bool SqliteDb::exec(std::string_view sql) {
  if (!db_) return false;
  const std::string s(sql);  // sqlite3_exec needs a terminated string
  return sqlite3_exec(db_, s.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
}

SqliteStatement SqliteDb::prepare(std::string_view sql) {
  if (!db_) return SqliteStatement();
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK) {
    if (stmt) sqlite3_finalize(stmt);
    return SqliteStatement();
  }
  return SqliteStatement(stmt);
}

std::int64_t SqliteDb::last_insert_rowid() const { return db_ ? sqlite3_last_insert_rowid(db_) : 0; }
int SqliteDb::changes() const { return db_ ? sqlite3_changes(db_) : 0; }

std::string SqliteDb::last_error() const {
  if (!error_.empty()) return error_;
  if (!db_) return "database not open";
  return sqlite3_errmsg(db_);
}

std::optional<int> SqliteDb::user_version() {
  SqliteStatement st = prepare("PRAGMA user_version");
  if (st.step() != SQLITE_ROW) return std::nullopt;
  return static_cast<int>(st.int64(0));
}

bool SqliteDb::migrate(const std::vector<std::string_view>& migrations) {
  error_.clear();
  const std::optional<int> current = user_version();
  if (!current) return false;
  if (*current > static_cast<int>(migrations.size())) {
    error_ = "the database schema is newer than this server";
    return false;
  }
  for (int i = *current; i < static_cast<int>(migrations.size()); ++i) {
    SqliteTransaction tx(*this);
    const bool ok = tx.ok() && exec(migrations[static_cast<std::size_t>(i)]) &&
                    exec("PRAGMA user_version = " + std::to_string(i + 1)) && tx.commit();
    if (!ok) {  // read the message now: the rollback in tx's destructor replaces it
      error_ = "migration " + std::to_string(i + 1) + " failed: " + sqlite3_errmsg(db_);
      return false;
    }
  }
  return true;
}

SqliteTransaction::SqliteTransaction(SqliteDb& db) : db_(db) { active_ = db_.exec("BEGIN IMMEDIATE"); }

SqliteTransaction::~SqliteTransaction() {
  if (active_) db_.exec("ROLLBACK");
}

bool SqliteTransaction::commit() {
  if (!active_) return false;
  if (!db_.exec("COMMIT")) return false;  // still active: the destructor rolls back (last_error() holds why)
  active_ = false;
  return true;
}

}  // namespace tidewire::server
