// The BMC's clock over IPMI: Get SEL Time (NetFn Storage 0x0A, command 0x48) in an IPMI 2.0 (RMCP+, lanplus) session
// opened with Debian's libfreeipmi. In-process: the credentials never appear on a command line.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <type_traits>

#include "dynamic.hpp"
#include "fwcert/live/probe.hpp"

namespace fwcert {

namespace {

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Session {
  const live::FreeIpmiLibrary& lib;
  ipmi_ctx_t ctx = nullptr;
  bool open = false;
  ~Session() {
    if (open) lib.ctx_close(ctx);
    if (ctx) lib.ctx_destroy(ctx);
  }
};

// Opens a lanplus session at User privilege (all Get SEL Time needs), cipher suite 3 (HMAC-SHA1, AES-CBC-128).
// Some BMCs (OpenIPMI's simulator among them) hash the session keys with the privilege of the Open Session request
// rather than RAKP 1's: when the first attempt is refused for its privilege, it is retried with FreeIPMI's
// workaround for that ("opensesspriv"). Both attempts share the time budget.
bool open_session(Session& s, const std::string& host, const char* user, const char* password, int timeout_ms,
                  std::string& error) {
  const unsigned int flags[] = {0, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_OPEN_SESSION_PRIVILEGE};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (unsigned int workaround : flags) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() < 100) break;
    if (s.ctx) s.lib.ctx_destroy(s.ctx);
    s.ctx = s.lib.ctx_create();
    if (!s.ctx) {
      error = "cannot create an IPMI context";
      return false;
    }
    const auto session_ms = static_cast<unsigned int>(left.count());
    const unsigned int retransmit_ms = std::max(100u, std::min(1000u, session_ms / 4));
    if (s.lib.ctx_open_outofband_2_0(s.ctx, host.c_str(), user, password, nullptr, 0, IPMI_PRIVILEGE_LEVEL_USER, 3,
                                    session_ms, retransmit_ms, workaround, 0) == 0) {
      s.open = true;
      return true;
    }
    const int errnum = s.lib.ctx_errnum(s.ctx);
    error = s.lib.ctx_errormsg(s.ctx);
    if (errnum != IPMI_ERR_PRIVILEGE_LEVEL_CANNOT_BE_OBTAINED) break;
  }
  return false;
}

}  // namespace

BmcClock read_ipmi_clock(const Endpoint& e, const IpmiOptions& o) {
  BmcClock b;
  b.source = "ipmi " + to_string(e);
  const char* user = std::getenv("FWCERT_IPMI_USER");
  const char* password = std::getenv("FWCERT_IPMI_PASSWORD");
  if (!user || !*user) {
    b.error = "IPMI: set FWCERT_IPMI_USER and FWCERT_IPMI_PASSWORD";
    return b;
  }
  const int timeout_ms = o.timeout_ms > 0 ? o.timeout_ms : 10000;
  // FreeIPMI takes "host:port"; an IPv6 address only on the standard port.
  const bool v6 = e.host.find(':') != std::string::npos;
  if (v6 && e.port != 623) {
    b.error = "IPMI: an IPv6 address works on port 623 only";
    return b;
  }
  const std::string host = v6 ? e.host : e.host + ":" + std::to_string(e.port);
  std::string error;
  const live::FreeIpmiLibrary* lib = live::freeipmi_library(error);
  if (!lib) {
    b.error = "IPMI: " + error;
    return b;
  }
  Session s{*lib};
  if (!open_session(s, host, user, password ? password : "", timeout_ms, error)) {
    b.error = "IPMI " + to_string(e) + ": " + (error.empty() ? "no session" : error);
    return b;
  }
  std::unique_ptr<std::remove_pointer_t<fiid_obj_t>, decltype(&fiid_obj_destroy)> rs(
      lib->obj_create(lib->get_sel_time_rs), lib->obj_destroy);
  const int64_t asked_ms = unix_now_ms();  // the clock is read by this command, not by the session set-up
  if (!rs || lib->cmd_get_sel_time(s.ctx, rs.get()) < 0) {
    b.error = "IPMI " + to_string(e) + ": Get SEL Time failed: " + lib->ctx_errormsg(s.ctx);
    return b;
  }
  const int64_t received_ms = unix_now_ms();
  uint64_t t = 0;
  if (lib->obj_get(rs.get(), "time", &t) < 0 || t > 0xffffffffu) {
    b.error = "IPMI " + to_string(e) + ": Get SEL Time answer without a time";
    return b;
  }
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08x", static_cast<uint32_t>(t));
  b.raw = hex;
  b.local_time = (asked_ms + received_ms) / 2 / 1000;
  b.ok = true;
  if (t <= kIpmiInitTimeLimit) {
    b.never_set = true;  // seconds since the BMC started, not a date
    return b;
  }
  b.bmc_time = static_cast<int64_t>(t);
  b.skew = *b.bmc_time - b.local_time;
  return b;
}

}  // namespace fwcert
