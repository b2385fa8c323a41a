#include "brook/metrics/metrics_server.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

#include "brook/base/status_macros.h"
#include "brook/metrics/internal/http_server.h"
#include "brook/metrics/prometheus_text.h"

namespace brook {
namespace {

internal::HttpResponse Health(const KafkaStreams& streams) {
  const KafkaStreams::State state = streams.state();
  internal::HttpResponse response;
  response.status = state == KafkaStreams::State::kRunning ? 200 : 503;
  response.body = absl::StrCat(KafkaStreams::StateName(state), "\n");
  if (state == KafkaStreams::State::kError) {
    absl::StrAppend(&response.body, "error: ", streams.error().ToString(),
                    "\n");
  }
  for (const StreamThreadMetrics& t : streams.Metrics()) {
    absl::StrAppend(&response.body, t.name, ": ", t.state, ", ", t.tasks,
                    " tasks, last poll ", t.poll_gap_ms / 1000, " s ago\n");
  }
  return response;
}

internal::HttpResponse TopologyPage(
    const KafkaStreams& streams, const std::map<std::string, std::string>& q) {
  auto format = q.find("format");
  if (format == q.end() || format->second == "text") {
    return {200, "text/plain; charset=utf-8", streams.DescribeTopology()};
  }
  if (format->second == "mermaid") {
    return {200, "text/plain; charset=utf-8",
            streams.DescribeTopologyMermaid()};
  }
  if (format->second == "dot") {
    return {200, "text/vnd.graphviz; charset=utf-8",
            streams.DescribeTopologyDot()};
  }
  return {400, "text/plain; charset=utf-8",
          absl::StrCat("unknown format '", format->second,
                       "': text (the default), mermaid or dot\n")};
}

}  // namespace

absl::StatusOr<MetricsServerOptions> MetricsServerOptions::FromConfig(
    const StreamsConfig& config) {
  if (config.metrics_http_port < 0 || config.metrics_http_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'metrics.http.port' =", config.metrics_http_port,
        config.metrics_http_port == -1
            ? " means no metrics server; set a port (0 picks a free one)"
            : " must be a port up to 65535 (0 picks a free one)"));
  }
  if (config.metrics_http_address.empty()) {
    return absl::InvalidArgumentError(
        "'metrics.http.address' must not be empty");
  }
  MetricsServerOptions options;
  options.address = config.metrics_http_address;
  options.port = config.metrics_http_port;
  return options;
}

MetricsServer::MetricsServer(const KafkaStreams* streams, std::string address)
    : streams_(streams),
      address_(std::move(address)),
      http_(std::make_unique<internal::HttpServer>()) {}

MetricsServer::~MetricsServer() { Stop(); }

void MetricsServer::Stop() { http_->Stop(); }

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const KafkaStreams* streams) {
  BROOK_ASSIGN_OR_RETURN(MetricsServerOptions options,
                         MetricsServerOptions::FromConfig(streams->config()));
  return Start(streams, options);
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const KafkaStreams* streams, const MetricsServerOptions& options) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("'metrics.http.port' =", options.port,
                     " must be 0 (any free port) or a port up to 65535"));
  }
  std::unique_ptr<MetricsServer> server(
      new MetricsServer(streams, options.address));
  server->registry_.AddCollector(KafkaStreamsCollector(
      streams, KafkaStreamsCollectorOptions{options.lag_timeout}));
  MetricsServer* s = server.get();
  s->http_->Get("/metrics", [s](const auto&) {
    const std::vector<MetricFamily> families = s->registry_.Collect();
    return internal::HttpResponse{200, std::string(kPrometheusTextContentType),
                                  RenderPrometheusText(families)};
  });
  s->http_->Get("/healthz", [s](const auto&) { return Health(*s->streams_); });
  s->http_->Get("/topology", [s](const auto& query) {
    return TopologyPage(*s->streams_, query);
  });
  BROOK_ASSIGN_OR_RETURN(server->port_,
                         server->http_->Start(options.address, options.port));
  return server;
}

}  // namespace brook
