#include "server/changefeed_stream.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <chrono>

namespace tidewire::server {

namespace {

std::uint64_t get64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void put64(char* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

// Microseconds since 2000-01-01 (Postgres's epoch).
std::uint64_t pg_now_us() {
  using namespace std::chrono;
  const auto us = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  return static_cast<std::uint64_t>(us) - 946684800000000ull;
}

std::string trimmed(const char* s) {
  std::string out = s ? s : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

void ChangefeedStream::Finish::operator()(pg_conn* c) const { PQfinish(c); }

ChangefeedStream::Open ChangefeedStream::open(const std::string& conninfo, std::string_view slot,
                                              std::string_view plugin_options) {
  close();
  // Later keywords override the URL's: a walsender for this database, timestamps printed in UTC.
  const char* keys[] = {"dbname", "replication", "options", "application_name", "connect_timeout", nullptr};
  const char* values[] = {conninfo.c_str(), "database", "-c timezone=UTC", "tidewire_changefeed", "5", nullptr};
  conn_.reset(PQconnectdbParams(keys, values, 1));
  if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
    error_ = conn_ ? trimmed(PQerrorMessage(conn_.get())) : "out of memory";
    conn_.reset();
    return Open::kFailed;
  }
  const std::string sql = "START_REPLICATION SLOT " + std::string(slot) + " LOGICAL 0/0 (" +
                          std::string(plugin_options) + ")";
  PGresult* r = PQexec(conn_.get(), sql.c_str());
  const ExecStatusType status = PQresultStatus(r);
  if (status != PGRES_COPY_BOTH) {
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const bool busy = state && std::string_view(state) == "55006";  // object_in_use: another walsender has it
    error_ = trimmed(PQresultErrorMessage(r));
    if (error_.empty()) error_ = trimmed(PQerrorMessage(conn_.get()));
    PQclear(r);
    conn_.reset();
    return busy ? Open::kSlotBusy : Open::kFailed;
  }
  PQclear(r);
  if (PQsetnonblocking(conn_.get(), 1) != 0) {
    error_ = "cannot make the replication connection non-blocking";
    conn_.reset();
    return Open::kFailed;
  }
  reply_requested_ = false;
  return Open::kStreaming;
}

ChangefeedStream::Read ChangefeedStream::read(std::string& data, std::uint64_t& wal_start, int timeout_ms) {
  if (!conn_) return Read::kClosed;
  bool waited = false;
  for (;;) {
    char* buf = nullptr;
    const int n = PQgetCopyData(conn_.get(), &buf, 1);
    if (n > 0) {
      const std::unique_ptr<char, void (*)(void*)> hold(buf, PQfreemem);
      drained_ = false;
      if (buf[0] == 'w' && n >= 25) {
        wal_start = get64(buf + 1);
        data.assign(buf + 25, static_cast<std::size_t>(n - 25));
        return Read::kData;
      }
      if (buf[0] == 'k' && n >= 18) {
        server_wal_end_ = get64(buf + 1);
        if (buf[17]) reply_requested_ = true;
      }
      continue;
    }
    if (n == 0) {
      // Everything received so far was handed out: say so once before waiting, so the caller confirms a burst
      // at its end instead of when the next one arrives.
      if (waited || !drained_) {
        drained_ = true;
        return Read::kIdle;
      }
      pollfd p{PQsocket(conn_.get()), POLLIN, 0};
      const int ready = ::poll(&p, 1, timeout_ms);
      if (ready < 0) return Read::kIdle;  // EINTR
      if (ready > 0 && PQconsumeInput(conn_.get()) == 0) {
        error_ = trimmed(PQerrorMessage(conn_.get()));
        close();
        return Read::kClosed;
      }
      waited = true;
      continue;
    }
    // -1: the copy ended (the server stopped streaming); -2: an error.
    error_ = trimmed(PQerrorMessage(conn_.get()));
    if (PGresult* r = PQgetResult(conn_.get())) {
      if (const char* m = PQresultErrorMessage(r); m && *m) error_ = trimmed(m);
      PQclear(r);
    }
    close();
    return Read::kClosed;
  }
}

bool ChangefeedStream::send_feedback(std::uint64_t flushed) {
  if (!conn_) return false;
  char msg[34];
  msg[0] = 'r';
  put64(msg + 1, flushed);
  put64(msg + 9, flushed);
  put64(msg + 17, flushed);
  put64(msg + 25, pg_now_us());
  msg[33] = 0;
  if (PQputCopyData(conn_.get(), msg, sizeof msg) <= 0 || PQflush(conn_.get()) < 0) {
    error_ = trimmed(PQerrorMessage(conn_.get()));
    return false;
  }
  reply_requested_ = false;
  return true;
}

void ChangefeedStream::close() { conn_.reset(); }

}  // namespace tidewire::server
