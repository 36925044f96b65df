// A small RAII wrapper over one libpq connection (PGconn) for the Postgres chat/sync stores and the change feed:
// connect, run parameterized statements, read results. No exceptions cross it: every operation returns a status
// and the connection keeps the last error message. Blocking calls: use it only on a worker thread (never on an
// I/O thread). Text format throughout (parameters and results), so values are the strings Postgres prints.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;
struct pg_result;

namespace tidewire::server {

// One result, cleared on destruction.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* result);
  bool ok() const;          // PGRES_COMMAND_OK or PGRES_TUPLES_OK
  int rows() const;
  int columns() const;
  bool is_null(int row, int column) const;
  std::string_view text(int row, int column) const;  // "" when null
  std::int64_t int64(int row, int column) const;     // 0 when null or not a number
  std::string affected() const;                       // PQcmdTuples: rows touched by INSERT/UPDATE/DELETE
  std::string command() const;                        // PQcmdStatus: e.g. "COMMIT", or "ROLLBACK" for a failed one
  std::string sqlstate() const;                       // e.g. "23505" (unique violation); "" when ok
  std::string error() const;                          // the server's message; "" when ok
  pg_result* get() const { return result_.get(); }

 private:
  struct Clear {
    void operator()(pg_result* r) const;
  };
  std::unique_ptr<pg_result, Clear> result_;
};

// A parameter: a value in text form, or null.
using PgParam = std::optional<std::string>;

class PgConnection {
 public:
  PgConnection() = default;
  PgConnection(PgConnection&&) noexcept = default;
  PgConnection& operator=(PgConnection&&) noexcept = default;

  // `conninfo`: a postgres:// URI or key=value string. False on failure (see last_error()).
  // `connect_timeout_s` applies unless the conninfo gives its own connect_timeout.
  bool connect(const std::string& conninfo, int connect_timeout_s = 5);
  bool connected() const;  // open and not broken (PQstatus == CONNECTION_OK)
  // For an idle connection taken from a pool: false when it is closed or broken, including when the server
  // ended it while idle (a restart, pg_terminate_backend): anything readable on an idle connection means that.
  // Non-blocking.
  bool usable();
  // In a transaction (open or failed) rather than idle.
  bool in_transaction() const;
  void close();

  // Runs one statement with $1.. parameters. Check result.ok(); on failure last_error() is set too.
  PgResult exec(std::string_view sql, const std::vector<PgParam>& params = {});
  // Runs statements without parameters (several may be separated by ';'). False on failure.
  bool exec_script(std::string_view sql);

  const std::string& last_error() const { return last_error_; }
  pg_conn* get() const { return conn_.get(); }

 private:
  struct Finish {
    void operator()(pg_conn* c) const;
  };
  std::unique_ptr<pg_conn, Finish> conn_;
  std::string last_error_;
};

// BEGIN on construction; ROLLBACK on destruction unless commit() succeeded. Check ok() first.
class PgTransaction {
 public:
  explicit PgTransaction(PgConnection& c);
  ~PgTransaction();
  PgTransaction(const PgTransaction&) = delete;
  PgTransaction& operator=(const PgTransaction&) = delete;
  bool ok() const { return active_; }
  bool commit();  // false when COMMIT failed or rolled back (a failed transaction's COMMIT is a ROLLBACK)

 private:
  PgConnection& c_;
  bool active_ = false;
};

// Quotes `s` as a SQL string literal ('...' with doubled quotes); for the rare statement that cannot take
// parameters (e.g. replication commands).
std::string pg_quote_literal(std::string_view s);

}  // namespace tidewire::server
