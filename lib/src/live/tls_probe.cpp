// A TLS handshake with a live endpoint to read what it serves: non-blocking sockets, poll() with deadlines, OpenSSL
// driven by hand so that no step can block longer than its timeout.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include "fwcert/certs/clock.hpp"  // tls_alert_name
#include "fwcert/certs/x509.hpp"
#include "fwcert/live/probe.hpp"

namespace fwcert {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left);
}

// Waits for `events` on fd until the deadline: 1 ready, 0 timed out, -1 error (errno set).
int wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return r;
    return 1;
  }
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string address_text(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  else if (sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  return buf;
}

// A peer that closes while OpenSSL writes raises SIGPIPE, which would kill the whole program: blocked in this thread
// for the probe, and one raised meanwhile is consumed (the write fails with EPIPE instead).
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlock() {
    if (!was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{0, 0};
        while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t pipe_{}, old_{};
  bool was_pending_ = false;
};

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Connects to the first address that answers. Sets r.error/message on failure and returns -1.
int connect_endpoint(const Endpoint& e, int timeout_ms, ProbeResult& r) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = is_ip_literal(e.host) ? AI_NUMERICHOST : 0;
  addrinfo* list = nullptr;
  const std::string port = std::to_string(e.port);
  if (int rc = getaddrinfo(e.host.c_str(), port.c_str(), &hints, &list); rc != 0) {
    r.error = ProbeError::Resolve;
    r.message = "cannot resolve " + e.host + ": " + gai_strerror(rc);
    return -1;
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(list, freeaddrinfo);
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  int last_errno = 0;
  bool timed_out = false;
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    r.address = address_text(ai->ai_addr);
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc == 0) return fd;
    if (errno == EINPROGRESS) {
      int w = wait_fd(fd, POLLOUT, deadline);
      if (w == 1) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) return fd;
        last_errno = err;
      } else if (w == 0) {
        timed_out = true;
      } else {
        last_errno = errno;
      }
    } else {
      last_errno = errno;
    }
    ::close(fd);
    if (timed_out) break;  // the deadline is shared by all addresses
  }
  if (timed_out) {
    r.error = ProbeError::TimedOut;
    r.message = "connect to " + to_string(e) + " timed out after " + std::to_string(timeout_ms) + " ms";
  } else if (last_errno == ECONNREFUSED) {
    r.error = ProbeError::Refused;
    r.message = "connection to " + to_string(e) + " refused (nothing listens on port " + port + ")";
  } else if (last_errno == ENETUNREACH || last_errno == EHOSTUNREACH || last_errno == EADDRNOTAVAIL) {
    r.error = ProbeError::Unreachable;
    r.message = to_string(e) + " unreachable: " + std::strerror(last_errno);
  } else {
    r.error = ProbeError::Unreachable;
    r.message = "cannot connect to " + to_string(e) + ": " + std::strerror(last_errno ? last_errno : EIO);
  }
  return -1;
}

// What the callbacks learn during the handshake.
struct Observed {
  int alert_received = -1;
  bool client_cert_requested = false;
  X509* client_cert = nullptr;  // offered when the server asks (owned by the probe)
  EVP_PKEY* client_key = nullptr;
};
int observed_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

void info_callback(const SSL* ssl, int where, int ret) {
  if (!(where & SSL_CB_READ_ALERT)) return;
  auto* o = static_cast<Observed*>(SSL_get_ex_data(ssl, observed_index()));
  const int description = ret & 0xff;
  // close_notify is an orderly end, not a refusal; keep the first real alert.
  if (o && description != 0 && o->alert_received < 0) o->alert_received = description;
}

int client_cert_callback(SSL* ssl, X509** x509, EVP_PKEY** pkey) {
  auto* o = static_cast<Observed*>(SSL_get_ex_data(ssl, observed_index()));
  if (!o) return 0;
  o->client_cert_requested = true;
  if (!o->client_cert || !o->client_key) return 0;  // nothing to offer: the server decides whether to go on
  // OpenSSL takes ownership of what the callback returns.
  X509_up_ref(o->client_cert);
  EVP_PKEY_up_ref(o->client_key);
  *x509 = o->client_cert;
  *pkey = o->client_key;
  return 1;
}

// Reads a PEM certificate and key for the client side; false with a message on failure.
bool load_client_identity(const ProbeOptions& o, Observed& observed, std::string& message) {
  if (o.client_cert.empty() && o.client_key.empty()) return true;
  std::unique_ptr<BIO, decltype(&BIO_free)> cb(BIO_new_file(o.client_cert.c_str(), "r"), BIO_free);
  if (cb) observed.client_cert = PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr);
  const std::string key_path = o.client_key.empty() ? o.client_cert : o.client_key;
  std::unique_ptr<BIO, decltype(&BIO_free)> kb(BIO_new_file(key_path.c_str(), "r"), BIO_free);
  if (kb) observed.client_key = PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr);
  ERR_clear_error();
  if (!observed.client_cert) message = "cannot read a PEM certificate from " + o.client_cert;
  else if (!observed.client_key) message = "cannot read an unencrypted PEM private key from " + key_path;
  return observed.client_cert && observed.client_key;
}

std::string first_openssl_error(unsigned long* reason_out) {
  unsigned long e = ERR_peek_error();
  if (reason_out) *reason_out = e ? ERR_GET_REASON(e) : 0;
  if (!e) return "";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

bool not_tls_reason(unsigned long reason) {
  switch (reason) {
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_RECORD_LENGTH_MISMATCH:
    case SSL_R_UNEXPECTED_MESSAGE:
    case SSL_R_LENGTH_TOO_SHORT:
    case SSL_R_BAD_PACKET_LENGTH:
    case SSL_R_UNEXPECTED_RECORD:
      return true;
    default:
      return false;
  }
}

std::string alert_text(int description) {
  return "TLS alert " + std::to_string(description) + " " + std::string(tls_alert_name(description));
}

void verify_chain(STACK_OF(X509) * served, const ProbeOptions& o, const std::string& servername, ProbeResult& r) {
  r.verified_against = o.ca_file.empty() ? "system store" : o.ca_file;
  if (!served || sk_X509_num(served) == 0) return;
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
  if (!store || !ctx) return;
  bool loaded = o.ca_file.empty() ? X509_STORE_set_default_paths(store.get()) == 1
                                  : X509_STORE_load_file(store.get(), o.ca_file.c_str()) == 1;
  ERR_clear_error();
  if (!loaded) {
    r.verify_error = "cannot load trust anchors from " + r.verified_against;
    return;
  }
  X509* leaf = sk_X509_value(served, 0);
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf, served) != 1) return;
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(o.now));
  if (!servername.empty()) {
    if (is_ip_literal(servername)) X509_VERIFY_PARAM_set1_ip_asc(param, servername.c_str());
    else X509_VERIFY_PARAM_set1_host(param, servername.c_str(), 0);
  }
  r.verified = X509_verify_cert(ctx.get()) == 1;
  r.verify_code = X509_STORE_CTX_get_error(ctx.get());
  r.verify_error = X509_verify_cert_error_string(r.verify_code);
  ERR_clear_error();
}

}  // namespace

std::string_view to_string(ProbeError e) {
  switch (e) {
    case ProbeError::None: return "";
    case ProbeError::Resolve: return "resolve";
    case ProbeError::Refused: return "refused";
    case ProbeError::TimedOut: return "timeout";
    case ProbeError::Unreachable: return "unreachable";
    case ProbeError::NotTls: return "not-tls";
    case ProbeError::Alert: return "alert";
    case ProbeError::Closed: return "closed";
    case ProbeError::Tls: return "tls";
  }
  return "";
}

Result<Endpoint> parse_endpoint(const std::string& text, uint16_t default_port) {
  Endpoint e;
  e.port = default_port;
  std::string port;
  if (!text.empty() && text[0] == '[') {
    auto close = text.find(']');
    if (close == std::string::npos) return make_error(0, "'" + text + "': missing ']'");
    e.host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return make_error(0, "'" + text + "': expected ':' after ']'");
      port = text.substr(close + 2);
      if (port.empty()) return make_error(0, "'" + text + "': empty port");
    }
  } else if (auto colon = text.find(':');
             colon != std::string::npos && text.find(':', colon + 1) == std::string::npos) {
    e.host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty()) return make_error(0, "'" + text + "': empty port");
  } else {
    e.host = text;  // a name, IPv4, or an IPv6 address without brackets (then no port)
  }
  if (e.host.empty()) return make_error(0, "'" + text + "': empty host");
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
      return make_error(0, "'" + text + "': port '" + port + "' is not a number");
    long p = std::stol(port);
    if (p < 1 || p > 65535) return make_error(0, "'" + text + "': port " + port + " outside 1-65535");
    e.port = static_cast<uint16_t>(p);
  }
  return e;
}

std::string to_string(const Endpoint& e) {
  const bool v6 = e.host.find(':') != std::string::npos;
  return (v6 ? "[" + e.host + "]" : e.host) + ":" + std::to_string(e.port);
}

ProbeResult probe_tls(const Endpoint& endpoint, const ProbeOptions& o) {
  SigpipeBlock no_sigpipe;
  ProbeResult r;
  r.endpoint = endpoint;
  r.servername = !o.servername.empty() ? o.servername : is_ip_literal(endpoint.host) ? "" : endpoint.host;
  const int timeout_ms = o.timeout_ms > 0 ? o.timeout_ms : 5000;
  Fd sock;
  sock.fd = connect_endpoint(endpoint, timeout_ms, r);
  if (sock.fd < 0) return r;

  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) {
    r.error = ProbeError::Tls;
    r.message = "OpenSSL: cannot create a TLS context";
    return r;
  }
  // Read whatever an old BMC serves: TLS 1.0 and small keys are reported, not refused.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_security_level(ctx.get(), 0);
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_LEGACY_SERVER_CONNECT);
  SSL_CTX_set_info_callback(ctx.get(), info_callback);
  SSL_CTX_set_client_cert_cb(ctx.get(), client_cert_callback);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  Observed observed;
  struct ObservedCleanup {
    Observed& o;
    ~ObservedCleanup() {
      X509_free(o.client_cert);
      EVP_PKEY_free(o.client_key);
    }
  } observed_cleanup{observed};
  if (!load_client_identity(o, observed, r.message)) {
    r.error = ProbeError::Tls;
    return r;
  }
  if (!ssl || SSL_set_fd(ssl.get(), sock.fd) != 1 || SSL_set_ex_data(ssl.get(), observed_index(), &observed) != 1) {
    r.error = ProbeError::Tls;
    r.message = "OpenSSL: cannot set up the connection";
    return r;
  }
  if (!r.servername.empty()) SSL_set_tlsext_host_name(ssl.get(), r.servername.c_str());

  ERR_clear_error();
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int rc = SSL_connect(ssl.get());
    if (rc == 1) break;
    int err = SSL_get_error(ssl.get(), rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      int w = wait_fd(sock.fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
      if (w == 1) continue;
      r.error = ProbeError::TimedOut;
      r.message = "TLS handshake with " + to_string(endpoint) + " timed out after " + std::to_string(timeout_ms) +
                  " ms (the port accepts connections but does not answer like a TLS server)";
      return r;
    }
    unsigned long reason = 0;
    std::string detail = first_openssl_error(&reason);
    ERR_clear_error();
    if (observed.alert_received >= 0) {
      r.error = ProbeError::Alert;
      r.alert = observed.alert_received;
      r.message = "the server sent " + alert_text(r.alert) + " during the handshake" +
                  (!observed.client_cert_requested ? ""
                   : observed.client_cert     ? " (it asked for a client certificate and refused the one offered)"
                                              : " (it asked for a client certificate)");
    } else if (not_tls_reason(reason)) {
      r.error = ProbeError::NotTls;
      r.message = to_string(endpoint) + " does not speak TLS (" + detail + ")";
    } else if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN || detail.empty()) {
      r.error = ProbeError::Closed;
      r.message = "the server closed the connection during the TLS handshake" +
                  std::string(errno && err == SSL_ERROR_SYSCALL ? std::string(" (") + std::strerror(errno) + ")" : "");
    } else {
      r.error = ProbeError::Tls;
      r.message = "TLS handshake failed: " + detail;
    }
    // A server may send its certificate before refusing: keep what was read.
    break;
  }
  r.client_cert_requested = observed.client_cert_requested;
  r.client_cert_offered = observed.client_cert_requested && observed.client_cert;
  r.protocol = SSL_get_version(ssl.get());
  if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl.get())) r.cipher = SSL_CIPHER_get_name(c);

  STACK_OF(X509)* served = SSL_get_peer_cert_chain(ssl.get());
  for (int i = 0; served && i < sk_X509_num(served); ++i) {
    unsigned char* der = nullptr;
    int len = i2d_X509(sk_X509_value(served, i), &der);
    if (len <= 0) continue;
    auto cert = parse_certificate(ByteView(der, static_cast<size_t>(len)));
    OPENSSL_free(der);
    if (cert) r.chain.push_back(std::move(*cert));
  }

  // A TLS 1.3 server checks the client certificate after the client's handshake is over: when it asked for one, wait
  // a little for the verdict (an alert, or nothing).
  if (r.error == ProbeError::None && observed.client_cert_requested) {
    const auto alert_deadline = Clock::now() + std::chrono::milliseconds(std::min(timeout_ms, 1000));
    char byte;
    for (;;) {
      int rc = SSL_read(ssl.get(), &byte, 1);
      if (rc > 0) break;
      int err = SSL_get_error(ssl.get(), rc);
      if ((err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) &&
          wait_fd(sock.fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, alert_deadline) == 1)
        continue;
      break;
    }
    ERR_clear_error();
    if (observed.alert_received >= 0) {
      r.error = ProbeError::Alert;
      r.alert = observed.alert_received;
      r.message = "the server sent " + alert_text(r.alert) + " right after the handshake" +
                  (observed.client_cert ? " (it asked for a client certificate and refused the one offered)"
                                        : " (it asked for a client certificate and refused to go on without one)");
    }
  } else if (r.error == ProbeError::None) {
    SSL_shutdown(ssl.get());  // best effort, non-blocking
  }
  ERR_clear_error();
  verify_chain(served, o, o.servername.empty() ? endpoint.host : o.servername, r);  // an address is checked too
  return r;
}

}  // namespace fwcert
