// HttpServer: the cpp-httplib server behind MetricsServer, kept out of the
// public header so that users do not compile httplib.h. GET routes only.
//
// Threading model: Start() and Stop() from one owning thread; handlers run
// on the server's pool of two threads.
#ifndef BROOK_METRICS_INTERNAL_HTTP_SERVER_H_
#define BROOK_METRICS_INTERNAL_HTTP_SERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace brook::internal {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Query parameters of the request ("format" -> "mermaid").
using HttpHandler =
    std::function<HttpResponse(const std::map<std::string, std::string>&)>;

class HttpServer {
 public:
  HttpServer();
  ~HttpServer();  // Stop()s

  // Adds a GET route. REQUIRES: before Start().
  void Get(const std::string& path, HttpHandler handler);

  // Binds `address`:`port` (0: any free port), starts serving on a thread,
  // and returns the bound port once the server accepts connections.
  absl::StatusOr<int> Start(const std::string& address, int port);
  void Stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace brook::internal

#endif  // BROOK_METRICS_INTERNAL_HTTP_SERVER_H_
