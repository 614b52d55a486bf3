// HttpServer: a small HTTP/1.1 server (Boost.Beast) for a process's /metrics and status pages,
// on its own thread and io_context, apart from the gRPC and Paxos traffic.
//
// It serves GET only, one request per connection (Connection: close), each answered by the
// handler registered for the request's exact path (the query string is ignored); any other path
// is a 404 and any other method a 405. Handlers run on the server's thread one at a time and may
// block briefly (a scrape renders the registry); a connection that sends nothing for 10 s is
// closed. Made for operators and Prometheus on a trusted network: no TLS, no authentication.
//
//   auto server = http::HttpServer::Start("127.0.0.1:7500", {{"/metrics",
//   http::MetricsHandler()}});
//
// Thread safety: port() is thread-safe; the destructor stops the thread and must not run on it.
// Boost headers stay in the .cc: include this from mains only.
#ifndef MERIDIAN_HTTP_HTTP_SERVER_H_
#define MERIDIAN_HTTP_HTTP_SERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace meridian::http {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<HttpResponse()>;

class HttpServer {
 public:
  // Listens on `host_port` ("127.0.0.1:0" picks a free port) and serves `routes` (path -> its
  // handler) from a new thread. INVALID_ARGUMENT for a malformed address, UNAVAILABLE when it
  // cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const std::string& host_port, std::map<std::string, HttpHandler> routes);
  ~HttpServer();  // stops listening, closes connections and joins the thread
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port it listens on (the real one when started with port 0).
  int port() const;

 private:
  class Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// metrics::DefaultRegistry() rendered in the Prometheus text format (version 0.0.4).
HttpHandler MetricsHandler();

// What the mains do with --http_listen: "" is off (a null server), anything else is
// Start(host_port, routes) with /metrics (MetricsHandler) added to the routes.
absl::StatusOr<std::unique_ptr<HttpServer>> StartIfConfigured(
    const std::string& host_port, std::map<std::string, HttpHandler> routes = {});

}  // namespace meridian::http

#endif  // MERIDIAN_HTTP_HTTP_SERVER_H_
