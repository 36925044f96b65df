#include "server/config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <vector>

namespace tidewire::server {
namespace {

ConfigResult parse(std::vector<const char*> args, std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), "tidewire-server");
  return parse_config(static_cast<int>(args.size()), args.data(), [env](const char* name, std::string& value) {
    const auto it = env.find(name);
    if (it == env.end()) return false;
    value = it->second;
    return true;
  });
}

TEST(Config, DefaultsUseTheDevelopmentSecretWithAWarning) {
  const ConfigResult r = parse({});
  ASSERT_EQ(r.status, ConfigStatus::kOk);
  const Config& c = r.config;
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.path, "/ws");
  EXPECT_EQ(c.secret, "tidewire-dev-secret");
  EXPECT_TRUE(c.using_development_secret);
  EXPECT_FALSE(c.dev_tokens);
  EXPECT_TRUE(c.allowed_origins.empty());
  EXPECT_EQ(c.max_message_bytes, 65536u);
  EXPECT_EQ(c.max_channels, 100u);
  EXPECT_EQ(c.threads, 1u);
  EXPECT_EQ(c.heartbeat_ms, 30000u);
  EXPECT_EQ(c.auth_timeout_ms, 5000u);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("WARNING"), std::string::npos);
}

TEST(Config, FlagsAndEnvironment) {
  const ConfigResult r = parse({"--port", "0", "--secret=s3", "--dev-tokens", "--allowed-origins", "http://a, http://b",
                                "--log-level", "debug", "--threads", "2"},
                               {{"TIDEWIRE_PORT", "9000"}, {"TIDEWIRE_PATH", "/socket"}, {"TIDEWIRE_MAX_CHANNELS", "7"}});
  ASSERT_EQ(r.status, ConfigStatus::kOk) << r.error;
  EXPECT_EQ(r.config.port, 0);  // the flag wins
  EXPECT_EQ(r.config.path, "/socket");
  EXPECT_EQ(r.config.max_channels, 7u);
  EXPECT_EQ(r.config.secret, "s3");
  EXPECT_FALSE(r.config.using_development_secret);
  EXPECT_TRUE(r.config.dev_tokens);
  EXPECT_EQ(r.config.allowed_origins, (std::vector<std::string>{"http://a", "http://b"}));
  EXPECT_EQ(r.config.log_level, LogLevel::kDebug);
  EXPECT_EQ(r.config.threads, 2u);
}

TEST(Config, SecretFile) {
  const std::string path = ::testing::TempDir() + "tidewire-secret.txt";
  std::ofstream(path) << "from-file\n";
  const ConfigResult r = parse({"--secret-file", path.c_str()});
  ASSERT_EQ(r.status, ConfigStatus::kOk) << r.error;
  EXPECT_EQ(r.config.secret, "from-file");
  // The command line replaces an environment secret of the other kind.
  EXPECT_EQ(parse({"--secret-file", path.c_str()}, {{"TIDEWIRE_SECRET", "env"}}).config.secret, "from-file");
  EXPECT_EQ(parse({}, {{"TIDEWIRE_SECRET", "env"}, {"TIDEWIRE_SECRET_FILE", path}}).status, ConfigStatus::kError);
  EXPECT_EQ(parse({"--secret-file", "/nonexistent/secret"}).status, ConfigStatus::kError);
  std::remove(path.c_str());
}

TEST(Config, BadValuesSayWhatIsWrong) {
  const std::vector<std::vector<const char*>> bad = {
      {"--port", "70000"}, {"--port", "-1"},         {"--port", "8o"},          {"--port"},
      {"--threads", "0"},  {"--log-level", "loud"},  {"--path", "ws"},          {"--bogus"},
      {"--secret", ""},    {"--max-message-bytes", "10"}, {"--dev-tokens=maybe"}, {"--heartbeat-ms", "1e3"},
  };
  for (const auto& args : bad) {
    const ConfigResult r = parse(args);
    EXPECT_EQ(r.status, ConfigStatus::kError) << args[0];
    EXPECT_FALSE(r.error.empty());
  }
  const ConfigResult env = parse({}, {{"TIDEWIRE_PORT", "x"}});
  EXPECT_EQ(env.status, ConfigStatus::kError);
  EXPECT_NE(env.error.find("TIDEWIRE_PORT"), std::string::npos);
}

TEST(Config, ChangefeedTablesAndSlot) {
  const ConfigResult ok = parse({"--database", "postgres://u@h/db", "--changefeed-tables", "public.todos(user_id)",
                                 "--changefeed-slot", "app_feed"});
  ASSERT_EQ(ok.status, ConfigStatus::kOk) << ok.error;
  EXPECT_EQ(ok.config.changefeed_slot, "app_feed");
  EXPECT_EQ(ok.config.changefeed_lag_warning_bytes, 64ull << 20);
  EXPECT_EQ(parse({"--changefeed-lag-warning-bytes", "1024"}).config.changefeed_lag_warning_bytes, 1024u);
  EXPECT_EQ(parse({"--changefeed-lag-warning-bytes", "0"}).status, ConfigStatus::kError);
  for (const std::vector<const char*>& bad : std::vector<std::vector<const char*>>{
           {"--database", "postgres://u@h/db", "--changefeed-tables", "todos"},
           {"--database", "postgres://u@h/db", "--changefeed-tables", "public.todos(user id)"},
           {"--changefeed-tables", "public.todos"},  // no --database
           {"--changefeed-slot", "Feed"},
           {"--changefeed-slot", "a-b"}}) {
    const ConfigResult r = parse(bad);
    EXPECT_EQ(r.status, ConfigStatus::kError) << bad.back();
    EXPECT_FALSE(r.error.empty());
  }
  // With --database (chat and sync in Postgres), several nodes may keep a data dir.
  EXPECT_EQ(
      parse({"--broker", "redis://127.0.0.1:6379", "--data-dir", "/tmp/x", "--database", "postgres://u@h/db"}).status,
      ConfigStatus::kOk);
  EXPECT_EQ(parse({"--broker", "redis://127.0.0.1:6379", "--data-dir", "/tmp/x"}).status, ConfigStatus::kError);
}

TEST(Config, HelpListsEveryOptionWithItsEnvironmentName) {
  EXPECT_EQ(parse({"--port", "1", "--help"}).status, ConfigStatus::kHelp);
  const std::string help = usage_text();
  for (const char* s : {"--host", "TIDEWIRE_HOST", "--port", "--path", "--secret", "--secret-file", "--static-dir",
                        "--dev-tokens", "--allowed-origins", "--max-message-bytes", "--max-channels", "--threads",
                        "--log-level", "--heartbeat-ms", "--auth-timeout-ms", "--write-delay-us", "default 8080"}) {
    EXPECT_NE(help.find(s), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace tidewire::server

namespace tidewire::server {
namespace {

TEST(Config, HistoryLimitsAndDataFlags) {
  ConfigResult r = parse({});
  // Zero loss by default (issue 12): persistent history, 5 minutes and 10,000 per channel.
  EXPECT_EQ(r.config.history_size, 10000u);
  EXPECT_EQ(r.config.history_ttl_ms, 300000u);
  EXPECT_EQ(r.config.history_store, "sqlite");
  EXPECT_EQ(r.config.data_dir, "./data");
  EXPECT_TRUE(r.warnings.size() == 1u) << "only the development secret warning";
  EXPECT_EQ(r.config.max_connections_per_user, 5u);
  EXPECT_EQ(r.config.rate_limit, 100u);
  EXPECT_EQ(r.config.rate_burst, 200u);
  r = parse({"--history-size", "5", "--history-ttl-ms=1000", "--history-store", "sqlite", "--data-dir", "/tmp/d",
             "--max-connections-per-user", "0", "--rate-limit", "0"},
            {{"TIDEWIRE_RATE_BURST", "9"}});
  ASSERT_EQ(r.status, ConfigStatus::kOk) << r.error;
  EXPECT_EQ(r.config.history_size, 5u);
  EXPECT_EQ(r.config.history_ttl_ms, 1000u);
  EXPECT_EQ(r.config.history_store, "sqlite");
  EXPECT_EQ(r.config.data_dir, "/tmp/d");
  EXPECT_EQ(r.config.max_connections_per_user, 0u);
  EXPECT_EQ(r.config.rate_limit, 0u);
  EXPECT_EQ(r.config.rate_burst, 9u);
  EXPECT_EQ(parse({"--history-store", "redis"}).status, ConfigStatus::kError);
  EXPECT_EQ(parse({"--history-store", "redis"}).error, "--history-store redis: must be sqlite or memory");
  EXPECT_EQ(parse({"--history-store", "memory"}).config.history_store, "memory");  // the explicit in-memory mode
  EXPECT_EQ(parse({}, {{"TIDEWIRE_HISTORY_STORE", "memory"}}).config.history_store, "memory");
  EXPECT_EQ(parse({"--rate-burst", "0"}).status, ConfigStatus::kError);
  // --data-dir :memory: implies the memory store; asking for sqlite there too says what it gets.
  r = parse({"--data-dir", ":memory:"});
  EXPECT_EQ(r.config.history_store, "memory");
  EXPECT_EQ(r.warnings.size(), 1u);
  r = parse({"--data-dir", ":memory:", "--history-store", "sqlite"});
  ASSERT_EQ(r.status, ConfigStatus::kOk);
  EXPECT_EQ(r.config.history_store, "memory");
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_NE(r.warnings[1].find("keeps history in memory only"), std::string::npos) << r.warnings[1];
  EXPECT_NE(usage_text().find("(default sqlite; memory when --data-dir is :memory:)"), std::string::npos);
  EXPECT_NE(usage_text().find("(default 10000)"), std::string::npos);
  for (const char* flag : {"--history-size", "--history-store", "--data-dir", "--rate-limit", "--rate-burst",
                           "--max-connections-per-user", "--history-ttl-ms"})
    EXPECT_NE(usage_text().find(flag), std::string::npos) << flag;
}

}  // namespace
}  // namespace tidewire::server
