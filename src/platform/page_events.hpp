// The page's lifecycle events, installed once per module and fanned out to every live client: visibilitychange,
// online / offline and pageshow (a page restored from the back/forward cache). In Node none of these exist,
// and nothing is installed.
#pragma once

namespace tidewire::platform {

class PageEventSink {
 public:
  virtual ~PageEventSink() = default;
  virtual void page_visible(bool visible) = 0;
  virtual void page_online(bool online) = 0;
  virtual void page_shown() = 0;  // restored from the back/forward cache
};

namespace page_events {
// Registers `sink` (installs the DOM listeners on first use) and tells it the current state.
void add(PageEventSink* sink);
void remove(PageEventSink* sink);
}  // namespace page_events

}  // namespace tidewire::platform
