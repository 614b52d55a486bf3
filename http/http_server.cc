#include "http/http_server.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "common/metrics.h"

namespace meridian::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using Routes = std::map<std::string, HttpHandler>;

// A client that sends nothing (or reads nothing) this long is dropped.
constexpr std::chrono::seconds kIdleTimeout(10);

// One connection: read one request, write its response, shut down. Owned by its handlers.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Routes* routes) : stream_(std::move(socket)), routes_(routes) {}

  void Start() {
    stream_.expires_after(kIdleTimeout);
    beast::http::async_read(stream_, buffer_, request_,
                            [self = shared_from_this()](beast::error_code error, size_t) {
                              if (!error) self->Respond();
                            });
  }

 private:
  void Respond() {
    const HttpResponse answer = Answer();
    response_.version(request_.version());
    response_.result(static_cast<beast::http::status>(answer.status));
    response_.set(beast::http::field::content_type, answer.content_type);
    response_.set(beast::http::field::cache_control, "no-store");
    response_.keep_alive(false);
    response_.body() = answer.body;
    response_.prepare_payload();
    stream_.expires_after(kIdleTimeout);
    beast::http::async_write(stream_, response_,
                             [self = shared_from_this()](beast::error_code, size_t) {
                               beast::error_code ignored;
                               self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                             });
  }

  HttpResponse Answer() const {
    if (request_.method() != beast::http::verb::get) {
      return HttpResponse{.status = 405, .body = "only GET is served\n"};
    }
    const beast::string_view target = request_.target();
    std::string path(target.data(), target.size());
    if (const size_t query = path.find('?'); query != std::string::npos) path.resize(query);
    const auto route = routes_->find(path);
    if (route == routes_->end()) {
      std::string known;
      for (const auto& [p, handler] : *routes_) absl::StrAppend(&known, p, "\n");
      return HttpResponse{.status = 404, .body = "not found; served here:\n" + known};
    }
    return route->second();
  }

  beast::tcp_stream stream_;
  const Routes* const routes_;
  beast::flat_buffer buffer_;
  beast::http::request<beast::http::string_body> request_;
  beast::http::response<beast::http::string_body> response_;
};

}  // namespace

class HttpServer::Impl {
 public:
  explicit Impl(Routes routes) : routes_(std::move(routes)), acceptor_(io_) {}

  ~Impl() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  absl::Status Listen(const std::string& host_port) {
    const size_t colon = host_port.rfind(':');
    int port = -1;
    if (colon == std::string::npos || !absl::SimpleAtoi(host_port.substr(colon + 1), &port) ||
        port < 0 || port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("an HTTP address is HOST:PORT, not '", host_port, "'"));
    }
    beast::error_code error;
    const asio::ip::address address = asio::ip::make_address(host_port.substr(0, colon), error);
    if (error) {
      return absl::InvalidArgumentError(absl::StrCat("'", host_port.substr(0, colon),
                                                     "' is not an IP address: ", error.message()));
    }
    const tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
    acceptor_.open(endpoint.protocol(), error);
    if (!error) acceptor_.set_option(asio::socket_base::reuse_address(true), error);
    if (!error) acceptor_.bind(endpoint, error);
    if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
      return absl::UnavailableError(
          absl::StrCat("cannot serve HTTP on ", host_port, ": ", error.message()));
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] { io_.run(); });
    return absl::OkStatus();
  }

  int port() const { return port_; }

 private:
  void Accept() {
    acceptor_.async_accept([this](beast::error_code error, tcp::socket socket) {
      if (error == asio::error::operation_aborted) return;
      if (!error) std::make_shared<Session>(std::move(socket), &routes_)->Start();
      Accept();
    });
  }

  const Routes routes_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  int port_ = 0;
  std::thread thread_;  // runs io_ from Listen until the destructor
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& host_port,
                                                              Routes routes) {
  auto impl = std::make_unique<Impl>(std::move(routes));
  if (absl::Status s = impl->Listen(host_port); !s.ok()) return s;
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const { return impl_->port(); }

HttpHandler MetricsHandler() {
  return [] {
    return HttpResponse{.content_type = "text/plain; version=0.0.4; charset=utf-8",
                        .body = metrics::DefaultRegistry().Render()};
  };
}

absl::StatusOr<std::unique_ptr<HttpServer>> StartIfConfigured(const std::string& host_port,
                                                              Routes routes) {
  if (host_port.empty()) return std::unique_ptr<HttpServer>();
  routes.emplace("/metrics", MetricsHandler());
  return HttpServer::Start(host_port, std::move(routes));
}

}  // namespace meridian::http
