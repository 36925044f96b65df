// Serving a directory over HTTP, safely: a URL path never resolves outside the root (no "..", no symlink
// escape, no dotfiles), directories serve their index.html, and content types cover what the web client ships
// (application/wasm matters: browsers refuse streaming compilation without it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tidewire::server {

// "text/html; charset=utf-8" for "x.html", ... ; application/octet-stream when unknown.
std::string_view content_type_for(std::string_view file_name);

// Decodes %XX escapes. Returns false on a malformed escape or a decoded NUL.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space = false);

struct StaticFile {
  std::string path;  // the resolved file, for logs
  std::string content_type;
  std::string body;
};

class StaticFiles {
 public:
  static constexpr std::uintmax_t kMaxFileBytes = 64u << 20;

  // `root` must be an existing directory; returns nullopt (and `error`) otherwise.
  static std::optional<StaticFiles> open(const std::string& root, std::string& error);

  // Maps a URL path (percent-encoded, without the query) to a file under the root; nullopt = 404.
  std::optional<std::string> resolve(std::string_view url_path) const;
  // resolve() and read the file.
  std::optional<StaticFile> load(std::string_view url_path) const;

  const std::string& root() const { return root_; }

 private:
  explicit StaticFiles(std::string root) : root_(std::move(root)) {}
  std::string root_;  // canonical, no trailing slash
};

}  // namespace tidewire::server
