#include "platform/page_events.hpp"

#include <emscripten/emscripten.h>

#include <algorithm>
#include <vector>

// EM_JS cannot parse a function-pointer parameter type: name it.
typedef void (*tw_page_callback)(int);

// clang-format off
EM_JS(int, tw_install_page_listeners, (tw_page_callback callback), {
  if (typeof window === 'undefined' || typeof window.addEventListener !== 'function') return 0;
  var fn = getWasmTableEntry(callback);
  var call = function(kind) { fn(kind); };
  window.addEventListener('online', function() { call(1); });
  window.addEventListener('offline', function() { call(2); });
  window.addEventListener('pageshow', function(e) { if (e.persisted) call(3); });
  if (typeof document !== 'undefined') {
    document.addEventListener('visibilitychange', function() {
      call(document.visibilityState === 'hidden' ? 4 : 5);
    });
  }
  return 1;
});

EM_JS(int, tw_is_online, (), {
  return (typeof navigator !== 'undefined' && navigator.onLine === false) ? 0 : 1;
});

EM_JS(int, tw_is_visible, (), {
  return (typeof document !== 'undefined' && document.visibilityState === 'hidden') ? 0 : 1;
});
// clang-format on

namespace tidewire::platform {
namespace {

enum Kind : int { kOnline = 1, kOffline = 2, kPageShow = 3, kHidden = 4, kVisible = 5 };


std::vector<PageEventSink*>& sinks() {
  static std::vector<PageEventSink*> all;
  return all;
}

void dispatch(int kind) {
  // Copy: a sink may remove itself (or another) while handling the event.
  const std::vector<PageEventSink*> snapshot = sinks();
  for (PageEventSink* s : snapshot) {
    const auto& live = sinks();
    if (std::find(live.begin(), live.end(), s) == live.end()) continue;
    switch (kind) {
      case kOnline: s->page_online(true); break;
      case kOffline: s->page_online(false); break;
      case kPageShow: s->page_shown(); break;
      case kHidden: s->page_visible(false); break;
      case kVisible: s->page_visible(true); break;
      default: break;
    }
  }
}

bool g_installed = false;

}  // namespace

namespace page_events {

void add(PageEventSink* sink) {
  if (!g_installed) {
    g_installed = true;
    tw_install_page_listeners(&dispatch);
  }
  sinks().push_back(sink);
  if (!tw_is_online()) sink->page_online(false);
  if (!tw_is_visible()) sink->page_visible(false);
}

void remove(PageEventSink* sink) {
  auto& all = sinks();
  all.erase(std::remove(all.begin(), all.end(), sink), all.end());
}

}  // namespace page_events
}  // namespace tidewire::platform
