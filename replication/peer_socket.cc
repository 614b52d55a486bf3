#include "replication/peer_socket.h"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <string>

namespace meridian::replication {

namespace ssl = boost::asio::ssl;

absl::StatusOr<std::unique_ptr<ssl::context>> MakePeerTlsContext(const TlsOptions& tls) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls);
  boost::system::error_code ec;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                       ec);
  const auto load = [&](const char* what, auto&& step) -> absl::Status {
    if (!ec) step();
    if (ec) {
      return absl::InvalidArgumentError(std::string("peer TLS: cannot load ") + what + " (" +
                                        tls.source + "): " + ec.message());
    }
    return absl::OkStatus();
  };
  absl::Status status = load("the certificate", [&] {
    context->use_certificate_chain(boost::asio::buffer(tls.cert_pem), ec);
  });
  if (status.ok()) {
    status = load("the private key", [&] {
      context->use_private_key(boost::asio::buffer(tls.key_pem), ssl::context::pem, ec);
    });
  }
  if (status.ok()) {
    status = load("the CA certificate", [&] {
      context->add_certificate_authority(boost::asio::buffer(tls.ca_cert_pem), ec);
    });
  }
  if (!status.ok()) return status;
  context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
  if (ec) return absl::InternalError("peer TLS: set_verify_mode: " + ec.message());
  return context;
}

absl::StatusOr<TlsIdentity> PeerSocket::PeerIdentity() {
  if (!stream_.has_value()) return absl::FailedPreconditionError("not a TLS connection");
  SSL* ssl = stream_->native_handle();
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) {
    if (cert != nullptr) X509_free(cert);
    return absl::PermissionDeniedError("the peer presented no verified certificate");
  }
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string subject(data, static_cast<size_t>(n));
  BIO_free(bio);
  X509_free(cert);
  return ParseTlsSubject(subject);
}

}  // namespace meridian::replication
