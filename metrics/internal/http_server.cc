#include "brook/metrics/internal/http_server.h"

#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace brook::internal {

HttpServer::HttpServer() : server_(std::make_unique<httplib::Server>()) {
  // httplib's default pool has max(8, cores - 1) threads; scrapes are rare
  // and short, and two serve a scrape and a probe side by side.
  server_->new_task_queue = [] { return new httplib::ThreadPool(2); };
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Get(const std::string& path, HttpHandler handler) {
  server_->Get(path, [handler = std::move(handler)](const httplib::Request& req,
                                                    httplib::Response& res) {
    std::map<std::string, std::string> params;
    for (const auto& [k, v] : req.params) params.emplace(k, v);
    HttpResponse response = handler(params);
    res.status = response.status;
    res.set_content(response.body, response.content_type.c_str());
  });
}

absl::StatusOr<int> HttpServer::Start(const std::string& address, int port) {
  int bound = port;
  if (port == 0) {
    bound = server_->bind_to_any_port(address);
    if (bound < 0) bound = 0;
  } else if (!server_->bind_to_port(address, port)) {
    bound = 0;
  }
  if (bound <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot bind the metrics server to ", address, ":", port,
                     " (metrics.http.address, metrics.http.port)"));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // Stop() before the accept loop runs would be lost (httplib's stop() acts
  // only on a running server), so wait until it runs.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!server_->is_running() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  if (!server_->is_running()) {
    Stop();
    return absl::InternalError("the metrics server did not start");
  }
  return bound;
}

void HttpServer::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

}  // namespace brook::internal
