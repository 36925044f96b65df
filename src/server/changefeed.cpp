#include "server/changefeed.hpp"

#include <algorithm>
#include <deque>

#include "protocol/wire.hpp"
#include "server/changefeed_stream.hpp"
#include "server/changefeed_wal2json.hpp"
#include "server/log.hpp"

namespace tidewire::server {

namespace {

constexpr std::chrono::seconds kLagCheckInterval{1};
constexpr std::chrono::seconds kCatalogRefreshInterval{5};
constexpr std::chrono::seconds kLagWarningInterval{30};
// While busy, the slot's position is reported this often: a kill -9 replays at most this much (plus what is in
// flight), which the broker's dedupe must still hold (the channel's history).
constexpr std::chrono::milliseconds kFeedbackInterval{10};
constexpr std::chrono::seconds kDrainDeadline{10};  // waiting for in-flight publishes when a stream ends

std::uint64_t now_ms() {
  using namespace std::chrono;
  return static_cast<std::uint64_t>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

// A transaction whose changes were handed to the broker: confirmed once `pending` is 0 (its changes' `done` plus
// one for "not yet committed").
struct Txn {
  std::atomic<int> pending{1};
  std::atomic<bool> failed{false};  // a change was not published: never confirmed (replayed from the slot)
  std::uint64_t end_lsn = 0;
};

}  // namespace

struct Changefeed::Flight {
  std::atomic<std::size_t> in_flight{0};
  std::atomic<bool> failed{false};
};

Changefeed::Changefeed(ChangefeedOptions options, ChangefeedCatalog& catalog, Broker& broker, Metrics& metrics,
                       std::function<void()> sync_store)
    : options_(std::move(options)),
      catalog_(catalog),
      broker_(broker),
      metrics_(metrics),
      sync_store_(std::move(sync_store)),
      flight_(std::make_shared<Flight>()) {
  if (options_.slot.empty()) options_.slot = std::string(wire::changefeed::kSlotName);
  options_.database = with_connect_timeout(options_.database);
  std::string tables;
  for (const ChangefeedTable& t : catalog_.tables()) tables += (tables.empty() ? "" : ",") + t.qualified();
  plugin_options_ = "\"format-version\" '2', \"include-transaction\" 'true', \"include-timestamp\" 'true', "
                    "\"include-lsn\" 'true', \"include-types\" 'true', \"add-tables\" " + pg_quote_literal(tables);
}

Changefeed::~Changefeed() { stop(); }

void Changefeed::start() {
  if (thread_.joinable()) return;
  stop_.store(false);
  thread_ = std::thread([this] { run(); });
}

void Changefeed::stop() {
  {
    std::lock_guard<std::mutex> lock(wait_mutex_);
    stop_.store(true, std::memory_order_release);
  }
  wait_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Changefeed::report(LogLevel level, const std::string& line) {
  if (line == last_problem_) return;  // retried every second: said once until something changes
  last_problem_ = line;
  log_line(level, line);
}

void Changefeed::wait_for(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(wait_mutex_);
  wait_cv_.wait_for(lock, d, [this] { return stopping(); });
}

void Changefeed::run() {
  log(LogLevel::kInfo, "msg=\"changefeed started\" slot=", options_.slot, " tables=", catalog_.tables().size());
  while (!stopping()) {
    try {
      housekeeping(true);
      if (!slot_ready_ || !broker_.healthy()) {
        wait_for(options_.retry);
        continue;
      }
      stream();
    } catch (const std::exception& e) {  // nothing should throw here; never let the thread take the server down
      Metrics::add(metrics_.changefeed_errors);
      log(LogLevel::kError, "msg=\"changefeed error\" error=", log_quoted(e.what()));
      metrics_.changefeed_leader.store(0);
      wait_for(options_.retry);
    }
  }
  metrics_.changefeed_leader.store(0);
  log(LogLevel::kInfo, "msg=\"changefeed stopped\"");
}

bool Changefeed::ensure_slot() {
  const PgResult found = control_.exec(
      "SELECT COALESCE(database, ''), current_database(), plugin FROM pg_replication_slots WHERE slot_name = $1",
      {options_.slot});
  if (!found.ok()) return false;
  if (found.rows() > 0) {
    if (found.text(0, 0) == found.text(0, 1) && found.text(0, 2) == "wal2json") return true;
    report(LogLevel::kError, "msg=\"changefeed: the slot belongs to another database or plugin; give this "
                             "deployment its own --changefeed-slot\" slot=" + options_.slot + " database=" +
                                 log_quoted(found.text(0, 0)) + " plugin=" + log_quoted(found.text(0, 2)));
    return false;
  }
  const PgResult created =
      control_.exec("SELECT pg_create_logical_replication_slot($1, 'wal2json')", {options_.slot});
  if (created.ok()) {
    log(LogLevel::kInfo, "msg=\"changefeed slot created\" slot=", options_.slot);
    return true;
  }
  if (created.sqlstate() == "42710") return true;  // another node created it first
  report(LogLevel::kError, "msg=\"changefeed cannot create its slot\" slot=" + options_.slot +
                               " error=" + log_quoted(created.error()));
  return false;
}

void Changefeed::housekeeping(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && now < next_lag_check_ && now < next_catalog_refresh_) return;
  if (!control_.connected()) {
    slot_ready_ = false;
    if (!control_.connect(options_.database)) {
      Metrics::add(metrics_.changefeed_errors);
      report(LogLevel::kWarn,
             "msg=\"changefeed cannot reach the database\" error=" + log_quoted(control_.last_error()));
      return;
    }
    control_.exec("SET statement_timeout = 5000");
    if (!warned_unbounded_) {
      warned_unbounded_ = true;
      const PgResult keep = control_.exec("SHOW max_slot_wal_keep_size");
      if (keep.ok() && keep.rows() == 1 && keep.text(0, 0) == "-1")
        log(LogLevel::kWarn, "msg=\"changefeed: max_slot_wal_keep_size is unbounded (-1): while the feed cannot "
                             "publish, the database keeps WAL for its slot without limit; set it in postgresql.conf\"");
    }
  }
  if (!slot_ready_) slot_ready_ = ensure_slot();
  if (now >= next_lag_check_) {
    next_lag_check_ = now + kLagCheckInterval;
    const PgResult lag = control_.exec(
        "SELECT COALESCE(pg_current_wal_lsn() - confirmed_flush_lsn, 0)::bigint, COALESCE(wal_status, '') "
        "FROM pg_replication_slots WHERE slot_name = $1",
        {options_.slot});
    if (lag.ok() && lag.rows() == 1) {
      const std::int64_t bytes = lag.int64(0, 0);
      metrics_.changefeed_lag_bytes.store(bytes > 0 ? static_cast<std::uint64_t>(bytes) : 0);
      if (bytes > 0 && static_cast<std::uint64_t>(bytes) > options_.lag_warning_bytes && now >= next_lag_warning_) {
        next_lag_warning_ = now + kLagWarningInterval;
        log(LogLevel::kWarn, "msg=\"changefeed slot lags\" slot=", options_.slot, " lag_bytes=", bytes,
            " warning_bytes=", options_.lag_warning_bytes, " wal_status=", lag.text(0, 1));
      }
    } else if (lag.ok()) {
      slot_ready_ = false;  // dropped behind our back: create it again
    }
  }
  if (now >= next_catalog_refresh_) {
    next_catalog_refresh_ = now + kCatalogRefreshInterval;
    catalog_.refresh_all();
  }
}

void Changefeed::stream() {
  ChangefeedStream s;
  switch (s.open(options_.database, options_.slot, plugin_options_)) {
    case ChangefeedStream::Open::kSlotBusy:
      if (!standby_logged_)
        log(LogLevel::kInfo, "msg=\"changefeed standing by: another node reads the slot\" slot=", options_.slot);
      standby_logged_ = true;
      return wait_for(options_.retry);
    case ChangefeedStream::Open::kFailed:
      Metrics::add(metrics_.changefeed_errors);
      report(LogLevel::kWarn, "msg=\"changefeed cannot start streaming\" error=" + log_quoted(s.error()));
      slot_ready_ = false;
      return wait_for(options_.retry);
    case ChangefeedStream::Open::kStreaming: break;
  }
  standby_logged_ = false;
  last_problem_.clear();
  metrics_.changefeed_leader.store(1);
  log(LogLevel::kInfo, "msg=\"changefeed leader: reading the slot\" slot=", options_.slot);

  const std::shared_ptr<Flight> flight = flight_;
  flight->failed.store(false);
  std::deque<std::shared_ptr<Txn>> committed;  // commit order, not yet confirmed
  std::shared_ptr<Txn> current;
  std::uint64_t commit_lsn = 0, index = 0, confirmed = 0, reported = 0;
  auto last_feedback = std::chrono::steady_clock::now();
  std::string data, error;
  Wal2jsonMessage m;

  // Confirms the committed transactions whose every change is done (in order), after the history is durable.
  const auto confirm = [&](bool idle) {
    while (!committed.empty() && committed.front()->pending.load(std::memory_order_acquire) == 0 &&
           !committed.front()->failed.load()) {
      confirmed = committed.front()->end_lsn;
      committed.pop_front();
    }
    // Nothing pending at all: everything the server sent (keepalive WAL end) is done too.
    if (idle && !current && committed.empty() && flight->in_flight.load() == 0 && !flight->failed.load() &&
        s.server_wal_end() > confirmed)
      confirmed = s.server_wal_end();
    const auto now = std::chrono::steady_clock::now();
    // At most one report (and history sync) per interval: at 1,000 single-row transactions a second, one per
    // transaction cost a syscall and a commit each.
    if ((confirmed > reported && now - last_feedback >= kFeedbackInterval) || s.reply_requested() ||
        now - last_feedback >= std::chrono::seconds(5)) {
      if (confirmed > reported && sync_store_) sync_store_();
      s.send_feedback(confirmed);  // 0 (nothing confirmed yet) is ignored by the server
      reported = confirmed;
      last_feedback = now;
    }
  };

  while (!stopping()) {
    if (flight->failed.load()) {
      log(LogLevel::kWarn, "msg=\"changefeed publish failed: restarting from the slot\"");
      break;
    }
    if (!broker_.healthy()) {
      log(LogLevel::kWarn, "msg=\"changefeed: broker unavailable, releasing the slot until it returns\"");
      break;
    }
    if (flight->in_flight.load() >= options_.max_in_flight) {  // backpressure: let the broker catch up
      confirm(false);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    std::uint64_t wal_start = 0;
    // While transactions wait for `done` (an asynchronous broker), look again soon; a confirmed position waiting
    // for its report, when the interval ends.
    int timeout_ms = 100;
    if (!committed.empty() || flight->in_flight.load() > 0) {
      timeout_ms = 2;
    } else if (confirmed > reported) {
      const auto due = std::chrono::duration_cast<std::chrono::milliseconds>(
          last_feedback + kFeedbackInterval - std::chrono::steady_clock::now());
      timeout_ms = static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(100, due.count() + 1)));
    }
    const ChangefeedStream::Read r = s.read(data, wal_start, timeout_ms);
    if (r == ChangefeedStream::Read::kClosed) {
      Metrics::add(metrics_.changefeed_errors);
      log(LogLevel::kWarn, "msg=\"changefeed stream ended\" error=", log_quoted(s.error()));
      break;
    }
    if (r == ChangefeedStream::Read::kIdle) {
      confirm(true);
      housekeeping(false);
      continue;
    }
    housekeeping(false);  // the lag gauge and the catalog stay current under load too (a clock check when not due)
    if (!decode_wal2json(data, m, error)) {
      Metrics::add(metrics_.changefeed_errors);
      log(LogLevel::kError, "msg=\"changefeed: undecodable wal2json message skipped\" error=", log_quoted(error),
          " lsn=", format_lsn(wal_start));
      continue;
    }
    switch (m.action) {
      case 'B':
        current = std::make_shared<Txn>();
        commit_lsn = m.lsn;
        index = 0;
        break;
      case 'C':
        if (!current) break;
        current->end_lsn = m.next_lsn != 0 ? m.next_lsn : wal_start;
        committed.push_back(current);
        current->pending.fetch_sub(1, std::memory_order_acq_rel);
        current.reset();
        break;
      case 'I':
      case 'U':
      case 'D': {
        if (!current) break;
        const std::string channel = std::string(wire::changefeed::kChannelPrefix) + m.schema + "." + m.table;
        const std::string client_id = format_lsn(commit_lsn) + ":" + std::to_string(index++);
        PublishRequest req;
        req.channel = channel;
        req.event = wire::changefeed::kEvent;
        req.from = wire::changefeed::kSender;
        req.payload_json = m.payload;
        req.ts_ms = now_ms();
        req.client_id = client_id;
        req.create = true;
        current->pending.fetch_add(1, std::memory_order_acq_rel);
        flight->in_flight.fetch_add(1, std::memory_order_acq_rel);
        // `done` may run here (memory broker, inside the hub's channel lock) or on the broker's thread: atomics only.
        broker_.publish(req, [flight, txn = current, &metrics = metrics_](const PublishOutcome& o) {
          if (!o.error.empty()) {
            txn->failed.store(true);
            flight->failed.store(true);
            Metrics::add(metrics.changefeed_errors);
          } else if (o.duplicate) {
            Metrics::add(metrics.changefeed_duplicates);
          } else {
            Metrics::add(metrics.changefeed_changes);
            Metrics::add(metrics.publications);
          }
          txn->pending.fetch_sub(1, std::memory_order_acq_rel);
          flight->in_flight.fetch_sub(1, std::memory_order_acq_rel);
        });
        break;
      }
      default:  // 'T' (TRUNCATE) and 'M' (logical messages) are not row changes
        break;
    }
    confirm(false);
  }

  // Let the in-flight publishes finish (bounded), confirm what they completed, then release the slot.
  const auto deadline = std::chrono::steady_clock::now() + kDrainDeadline;
  while (flight->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  current.reset();
  confirm(false);
  if (confirmed > reported) {
    if (sync_store_) sync_store_();
    s.send_feedback(confirmed);
  }
  s.close();
  metrics_.changefeed_leader.store(0);
  if (!stopping()) wait_for(std::chrono::milliseconds(200));
}

}  // namespace tidewire::server
