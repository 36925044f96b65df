#include "server/service_workers.hpp"

#include <boost/asio/post.hpp>

#include <string>

#include "server/guard.hpp"

namespace tidewire::server {

ServiceWorkers::ServiceWorkers(unsigned threads) : threads_(threads) {
  if (threads_ == 0) return;
  pool_ = std::make_unique<boost::asio::thread_pool>(threads_);
  strands_.reserve(kStrands);
  for (unsigned i = 0; i < kStrands; ++i) strands_.push_back(boost::asio::make_strand(pool_->get_executor()));
}

ServiceWorkers::~ServiceWorkers() { stop(); }

std::size_t ServiceWorkers::strand_of(std::string_view key) { return std::hash<std::string_view>{}(key) % kStrands; }

void ServiceWorkers::post(std::string_view key, std::function<void()> job) {
  if (!pool_) return guard("service job", job);
  boost::asio::post(strands_[strand_of(key)], [job = std::move(job)] { guard("service worker", job); });
}

void ServiceWorkers::stop() {
  if (!pool_) return;
  pool_->stop();
  pool_->join();
}

}  // namespace tidewire::server
