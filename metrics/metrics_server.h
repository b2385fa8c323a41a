// MetricsServer: an HTTP endpoint (cpp-httplib) for operators and
// Prometheus, serving one KafkaStreams instance:
//
//   GET /metrics    its metrics in the Prometheus text format, and those of
//                   any collector added to registry()
//   GET /healthz    200 "RUNNING" while the instance runs; 503 otherwise,
//                   with the state, the error that stopped it and each
//                   thread's state in the body
//   GET /topology   Topology::Describe() as text; ?format=mermaid gives
//                   Topology::ToMermaid(), ?format=dot Topology::ToDot()
//
// The application starts and stops it (the runtime knows nothing of HTTP):
//
//   config.metrics_http_port = 9464;  // metrics.http.port; 0 = any free one
//   BROOK_ASSIGN_OR_RETURN(auto streams, KafkaStreams::Create(topology,
//   config)); BROOK_ASSIGN_OR_RETURN(auto server,
//   MetricsServer::Start(streams.get()));
//   BROOK_RETURN_IF_ERROR(streams->Start());
//   ...
//   server->Stop();   // or destroy it; before `streams` goes
//
// Started before KafkaStreams::Start(), /healthz answers 503 CREATED until
// the instance runs, which is what a readiness probe wants.
//
// Threading model: thread-safe. Requests are served on the server's own
// threads (two), each scrape collecting from the instance's thread-safe
// accessors: the stream threads never wait for a scrape.
#ifndef BROOK_METRICS_METRICS_SERVER_H_
#define BROOK_METRICS_METRICS_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "brook/metrics/kafka_streams_collector.h"
#include "brook/metrics/metrics_registry.h"
#include "brook/runtime/kafka_streams.h"

namespace brook {

namespace internal {
class HttpServer;
}  // namespace internal

struct MetricsServerOptions {
  // Address to bind (metrics.http.address). Loopback by default: metrics
  // and the topology stay on the host unless asked for.
  std::string address = "127.0.0.1";
  // Port (metrics.http.port); 0 picks a free one, see port().
  int port = 0;
  // How long a scrape waits for the consumer lag (see
  // KafkaStreamsCollectorOptions).
  absl::Duration lag_timeout = absl::Seconds(5);

  // The address and port of `config` (metrics.http.address and .port).
  // Errors: InvalidArgument naming metrics.http.port when it is -1 (no
  // server configured) or out of range.
  static absl::StatusOr<MetricsServerOptions> FromConfig(
      const StreamsConfig& config);
};

class MetricsServer {
 public:
  // Binds with the instance's StreamsConfig (FromConfig()) and serves.
  // REQUIRES: `streams` outlives the server.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const KafkaStreams* streams);
  // Binds to options.address:options.port and serves. Errors: the options'
  // (naming the key), or Unavailable when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const KafkaStreams* streams, const MetricsServerOptions& options);

  // Stops serving (waits for requests in flight).
  ~MetricsServer();
  // Stops serving; idempotent.
  void Stop();

  // The bound port (the chosen one when options.port was 0).
  int port() const { return port_; }
  const std::string& address() const { return address_; }

  // Add collectors for the application's own metrics here; /metrics serves
  // them after the instance's.
  MetricsRegistry& registry() { return registry_; }

 private:
  MetricsServer(const KafkaStreams* streams, std::string address);

  const KafkaStreams* const streams_;
  const std::string address_;
  int port_ = 0;
  MetricsRegistry registry_;
  std::unique_ptr<internal::HttpServer> http_;
};

}  // namespace brook

#endif  // BROOK_METRICS_METRICS_SERVER_H_
