#include "server/pg_connection.hpp"

#include "server/log.hpp"

#include <libpq-fe.h>

#include <poll.h>

#include <charconv>

namespace tidewire::server {

void PgResult::Clear::operator()(pg_result* r) const { PQclear(r); }
void PgConnection::Finish::operator()(pg_conn* c) const { PQfinish(c); }

PgResult::PgResult(pg_result* result) : result_(result) {}

bool PgResult::ok() const {
  if (!result_) return false;
  const ExecStatusType s = PQresultStatus(result_.get());
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

int PgResult::rows() const { return result_ ? PQntuples(result_.get()) : 0; }
int PgResult::columns() const { return result_ ? PQnfields(result_.get()) : 0; }

bool PgResult::is_null(int row, int column) const {
  return !result_ || row >= rows() || column >= columns() || PQgetisnull(result_.get(), row, column) != 0;
}

std::string_view PgResult::text(int row, int column) const {
  if (is_null(row, column)) return {};
  return {PQgetvalue(result_.get(), row, column),
          static_cast<std::size_t>(PQgetlength(result_.get(), row, column))};
}

std::int64_t PgResult::int64(int row, int column) const {
  const std::string_view t = text(row, column);
  std::int64_t value = 0;
  std::from_chars(t.data(), t.data() + t.size(), value);
  return value;
}

std::string PgResult::affected() const { return result_ ? PQcmdTuples(result_.get()) : ""; }

std::string PgResult::command() const { return result_ ? PQcmdStatus(result_.get()) : ""; }

std::string PgResult::sqlstate() const {
  if (!result_ || ok()) return {};
  const char* s = PQresultErrorField(result_.get(), PG_DIAG_SQLSTATE);
  return s ? s : "";
}

std::string PgResult::error() const {
  if (!result_) return "no result (connection lost?)";
  if (ok()) return {};
  return PQresultErrorMessage(result_.get());
}

bool PgConnection::connect(const std::string& conninfo, int connect_timeout_s) {
  // expand_dbname: `conninfo` is expanded in place, and its own settings override the ones before it.
  const std::string timeout = std::to_string(connect_timeout_s);
  const char* keys[] = {"connect_timeout", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), conninfo.c_str(), nullptr};
  conn_.reset(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (!conn_) {
    last_error_ = "out of memory";
    return false;
  }
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    last_error_ = PQerrorMessage(conn_.get());
    conn_.reset();
    return false;
  }
  last_error_.clear();
  return true;
}

bool PgConnection::connected() const { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }

void PgConnection::close() { conn_.reset(); }

bool PgConnection::usable() {
  if (!connected()) return false;
  if (PQtransactionStatus(conn_.get()) != PQTRANS_IDLE) return false;
  pollfd p{PQsocket(conn_.get()), POLLIN, 0};
  if (p.fd < 0) return false;
  if (::poll(&p, 1, 0) == 0) return true;  // nothing to read: as we left it
  // An idle connection has nothing to say but a notice or a notification; a terminated backend sends its FATAL
  // error and closes. Read it and treat the connection as gone: a fresh one costs one connect.
  PQconsumeInput(conn_.get());
  return false;
}

bool PgConnection::in_transaction() const {
  return conn_ && PQtransactionStatus(conn_.get()) != PQTRANS_IDLE;
}

PgTransaction::PgTransaction(PgConnection& c) : c_(c) { active_ = c_.exec("BEGIN").ok(); }

PgTransaction::~PgTransaction() {
  if (active_) c_.exec("ROLLBACK");
}

bool PgTransaction::commit() {
  if (!active_) return false;
  active_ = false;
  const PgResult r = c_.exec("COMMIT");
  return r.ok() && r.command() == "COMMIT";
}

PgResult PgConnection::exec(std::string_view sql, const std::vector<PgParam>& params) {
  if (!conn_) {
    last_error_ = "not connected";
    return PgResult{};
  }
  const std::string query(sql);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const PgParam& p : params) values.push_back(p ? p->c_str() : nullptr);
  PgResult result(PQexecParams(conn_.get(), query.c_str(), static_cast<int>(values.size()), nullptr,
                               values.empty() ? nullptr : values.data(), nullptr, nullptr, 0));
  if (!result.ok()) {
    last_error_ = result.get() ? result.error() : std::string(PQerrorMessage(conn_.get()));
    log(LogLevel::kWarn, "msg=\"database statement failed\" sqlstate=", result.sqlstate(), " error=",
        log_quoted(last_error_), " sql=", log_quoted(query.substr(0, 120)));
  }
  return result;
}

bool PgConnection::exec_script(std::string_view sql) {
  if (!conn_) {
    last_error_ = "not connected";
    return false;
  }
  const std::string script(sql);
  PgResult result(PQexec(conn_.get(), script.c_str()));
  if (!result.ok()) {
    last_error_ = result.get() ? result.error() : std::string(PQerrorMessage(conn_.get()));
    return false;
  }
  return true;
}

std::string pg_quote_literal(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('\'');
  for (char c : s) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace tidewire::server
