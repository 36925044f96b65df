#include "server/static_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace tidewire::server {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::path(::testing::TempDir()) / ("tidewire-static-" + std::to_string(::getpid()));
    fs::remove_all(base_);
    fs::create_directories(base_ / "root" / "sub");
    std::ofstream(base_ / "root" / "index.html") << "home";
    std::ofstream(base_ / "root" / "app.wasm") << "wasm";
    std::ofstream(base_ / "root" / "sub" / "index.html") << "sub";
    std::ofstream(base_ / "root" / ".env") << "secret";
    std::ofstream(base_ / "outside.txt") << "outside";
    fs::create_symlink(base_ / "outside.txt", base_ / "root" / "link.txt");
    fs::create_directory_symlink(base_, base_ / "root" / "up");
    std::string error;
    auto files = StaticFiles::open((base_ / "root").string(), error);
    ASSERT_TRUE(files) << error;
    files_.emplace(std::move(*files));
  }
  void TearDown() override { fs::remove_all(base_); }

  fs::path base_;
  std::optional<StaticFiles> files_;
};

TEST_F(StaticFilesTest, ServesFilesAndDirectoryIndexes) {
  EXPECT_EQ(files_->load("/")->body, "home");
  EXPECT_EQ(files_->load("/index.html")->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(files_->load("/app.wasm")->content_type, "application/wasm");
  EXPECT_EQ(files_->load("/sub")->body, "sub");
  EXPECT_EQ(files_->load("/sub/")->body, "sub");
  EXPECT_EQ(files_->load("/./sub//index.html")->body, "sub");
  EXPECT_EQ(files_->load("/%73ub/")->body, "sub");
}

TEST_F(StaticFilesTest, NeverLeavesTheRoot) {
  for (const char* path : {"/../outside.txt", "/%2e%2e/outside.txt", "/%2E%2E%2Foutside.txt", "/sub/../../outside.txt",
                           "/link.txt", "/up/outside.txt", "/.env", "/sub/%2e%2e/.env", "/..%5coutside.txt", "/%00",
                           "/index.html%00.png", "/%zz", "/%", "", "index.html", "/missing", "/\\..\\outside.txt"}) {
    EXPECT_FALSE(files_->resolve(path)) << path;
  }
}

TEST(StaticFiles, OpenRejectsMissingDirectories) {
  std::string error;
  EXPECT_FALSE(StaticFiles::open("/nonexistent/dir", error));
  EXPECT_FALSE(error.empty());
}

TEST(StaticFiles, ContentTypes) {
  EXPECT_EQ(content_type_for("a.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("a.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("a.json"), "application/json");
  EXPECT_EQ(content_type_for("a.js.map"), "application/json");
  EXPECT_EQ(content_type_for("a.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("a.png"), "image/png");
  EXPECT_EQ(content_type_for("a.bin"), "application/octet-stream");
}

TEST(StaticFiles, PercentDecode) {
  std::string out;
  EXPECT_TRUE(percent_decode("a%20b+c", out));
  EXPECT_EQ(out, "a b+c");
  EXPECT_TRUE(percent_decode("a%20b+c", out, true));
  EXPECT_EQ(out, "a b c");
  EXPECT_FALSE(percent_decode("%4", out));
  EXPECT_FALSE(percent_decode("%00", out));
  EXPECT_FALSE(percent_decode("%g0", out));
}

}  // namespace
}  // namespace tidewire::server
