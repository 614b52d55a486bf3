#include "replication/grpc_tls.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/auth_context.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace meridian::replication {

std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const TlsOptions& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = tls.ca_cert_pem;
  options.pem_key_cert_pairs.push_back({tls.key_pem, tls.cert_pem});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const TlsOptions& tls) {
  if (!tls.enabled()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = tls.ca_cert_pem;
  options.pem_cert_chain = tls.cert_pem;
  options.pem_private_key = tls.key_pem;
  return grpc::SslCredentials(options);
}

absl::StatusOr<std::optional<TlsIdentity>> CallerIdentity(const grpc::ServerContextBase& ctx) {
  const std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return std::nullopt;
  const std::vector<grpc::string_ref> subjects =
      auth->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME);
  if (subjects.size() != 1) {
    return absl::InvalidArgumentError("the caller's certificate has no subject");
  }
  absl::StatusOr<TlsIdentity> identity =
      ParseTlsSubject(std::string_view(subjects[0].data(), subjects[0].size()));
  if (!identity.ok()) return identity.status();
  return std::optional<TlsIdentity>(*std::move(identity));
}

absl::Status AuthorizeAdmin(const grpc::ServerContextBase& ctx, std::string_view rpc) {
  absl::StatusOr<std::optional<TlsIdentity>> caller = CallerIdentity(ctx);
  const absl::string_view name(rpc.data(), rpc.size());
  if (!caller.ok()) {
    return absl::PermissionDeniedError(
        absl::StrCat(name, " is an admin RPC: ", caller.status().message()));
  }
  if (!caller->has_value() || (*caller)->may_administer()) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      name, " is an admin RPC: the caller '", (*caller)->name, "' has a ",
      TlsRoleName((*caller)->role),
      " certificate; it needs a node certificate or an admin one (`meridian certs create-client "
      "--admin`)"));
}

}  // namespace meridian::replication
