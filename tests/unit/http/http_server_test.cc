// HttpServer over a real loopback socket (port 0), spoken to with plain POSIX sockets so that the
// test checks the bytes on the wire, not a second use of Beast.
#include "http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "common/metrics.h"
#include "gtest/gtest.h"

namespace meridian::http {
namespace {

// Sends `request` to 127.0.0.1:port and returns everything read until the server closes.
std::string Exchange(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    ADD_FAILURE() << "connect to port " << port << " failed";
    return "";
  }
  EXPECT_EQ(send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) response.append(buffer, n);
  close(fd);
  return response;
}

std::string Get(int port, const std::string& path) {
  return Exchange(port, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
}

// The body of a response (after the blank line).
std::string Body(const std::string& response) {
  const size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

TEST(HttpServerTest, ServesRoutesOnAFreePort) {
  std::atomic<int> calls{0};
  absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start(
      "127.0.0.1:0", {{"/hello", [&calls] {
                         ++calls;
                         return HttpResponse{.content_type = "text/html", .body = "<p>hi</p>"};
                       }}});
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  ASSERT_GT(port, 0);
  for (int i = 0; i < 3; ++i) {
    const std::string response = Get(port, "/hello?x=1");
    EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response;
    EXPECT_NE(response.find("Content-Type: text/html\r\n"), std::string::npos) << response;
    EXPECT_NE(response.find("Content-Length: 9\r\n"), std::string::npos) << response;
    EXPECT_EQ(Body(response), "<p>hi</p>");
  }
  EXPECT_EQ(calls.load(), 3);
}

TEST(HttpServerTest, UnknownPathsAre404AndOtherMethods405) {
  absl::StatusOr<std::unique_ptr<HttpServer>> server =
      HttpServer::Start("127.0.0.1:0", {{"/a", [] { return HttpResponse{.body = "a"}; }}});
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string missing = Get((*server)->port(), "/b");
  EXPECT_EQ(missing.rfind("HTTP/1.1 404", 0), 0u) << missing;
  EXPECT_NE(Body(missing).find("/a"), std::string::npos) << missing;
  const std::string post =
      Exchange((*server)->port(), "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nz");
  EXPECT_EQ(post.rfind("HTTP/1.1 405", 0), 0u) << post;
}

TEST(HttpServerTest, MetricsServesTheDefaultRegistry) {
  metrics::DefaultRegistry().AddCounter("http_test_hits_total", "Hits.").Increment(5);
  absl::StatusOr<std::unique_ptr<HttpServer>> server = StartIfConfigured("127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_NE(*server, nullptr);
  const std::string response = Get((*server)->port(), "/metrics");
  EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4"), std::string::npos)
      << response;
  EXPECT_NE(Body(response).find("# TYPE http_test_hits_total counter\nhttp_test_hits_total 5\n"),
            std::string::npos)
      << response;
}

TEST(HttpServerTest, EmptyAddressIsOffAndBadOnesAreRefused) {
  absl::StatusOr<std::unique_ptr<HttpServer>> off = StartIfConfigured("");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(*off, nullptr);
  EXPECT_EQ(HttpServer::Start("nonsense", {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HttpServer::Start("not-an-ip:80", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::unique_ptr<HttpServer>> first = HttpServer::Start("127.0.0.1:0", {});
  ASSERT_TRUE(first.ok());
  const std::string taken = "127.0.0.1:" + std::to_string((*first)->port());
  EXPECT_EQ(HttpServer::Start(taken, {}).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace meridian::http
