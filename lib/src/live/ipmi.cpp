// The BMC's clock over IPMI: Get SEL Time (NetFn Storage 0x0A, command 0x48) through Debian's ipmitool, lanplus.
// The password travels in ipmitool's environment (-E reads IPMI_PASSWORD), never on its command line.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "fwcert/live/probe.hpp"

extern char** environ;

namespace fwcert {

namespace {

struct Run {
  bool started = false, timed_out = false;
  int status = -1;
  std::string out;  // stdout and stderr together
};

// Runs argv with envp, collecting its output (capped at 64 KiB) until it exits or the deadline passes (then it is
// killed).
Run run_bounded(const std::vector<std::string>& args, const std::vector<std::string>& env, int timeout_ms) {
  Run r;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return r;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> argv, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return r;
  }
  r.started = true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int w = ::poll(&p, 1, static_cast<int>(left.count()));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      r.timed_out = w == 0;
      break;
    }
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (r.out.size() < 65536) r.out.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (r.timed_out) ::kill(pid, SIGKILL);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  r.status = st;
  return r;
}

// The last non-empty line, trimmed: ipmitool's error message.
std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line)) {
    auto b = line.find_first_not_of(" \t\r");
    if (b != std::string::npos) last = line.substr(b, line.find_last_not_of(" \t\r") - b + 1);
  }
  return last.substr(0, 200);
}

}  // namespace

std::optional<uint32_t> parse_ipmi_sel_time(const std::string& out) {
  std::istringstream in(out);
  std::vector<uint32_t> bytes;
  std::string tok;
  while (in >> tok) {
    auto hex = [](char c) { return isxdigit(static_cast<unsigned char>(c)) != 0; };
    if (tok.size() != 2 || !hex(tok[0]) || !hex(tok[1])) return std::nullopt;
    bytes.push_back(static_cast<uint32_t>(std::strtoul(tok.c_str(), nullptr, 16)));
  }
  if (bytes.size() != 4) return std::nullopt;
  return bytes[0] | bytes[1] << 8 | bytes[2] << 16 | bytes[3] << 24;
}

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
  // ipmitool's own timeout (-N seconds, -R retries) ends well inside ours; ours kills it if it does not.
  const int per_try = std::max(1, timeout_ms / 3000);
  std::vector<std::string> args = {o.ipmitool, "-I",     "lanplus", "-H", e.host, "-p", std::to_string(e.port),
                                   "-U",       user,     "-E",      "-C", "3",    "-N", std::to_string(per_try),
                                   "-R",       "1",      "raw",     "0x0a", "0x48"};
  std::vector<std::string> env;
  for (char** p = environ; p && *p; ++p) {
    if (std::strncmp(*p, "FWCERT_", 7) == 0 || std::strncmp(*p, "IPMI_PASSWORD=", 14) == 0) continue;
    env.emplace_back(*p);
  }
  env.push_back(std::string("IPMI_PASSWORD=") + (password ? password : ""));
  auto sent = std::chrono::system_clock::now();
  Run r = run_bounded(args, env, timeout_ms);
  auto received = std::chrono::system_clock::now();
  if (!r.started) {
    b.error = "IPMI: cannot run " + o.ipmitool + " (Debian package ipmitool)";
    return b;
  }
  std::string said = last_line(r.out);
  if (password && *password) {
    // ipmitool does not print passwords, but its output is the peer's words: make sure.
    for (size_t at; (at = said.find(password)) != std::string::npos;) said.replace(at, std::strlen(password), "***");
  }
  if (r.timed_out) {
    b.error = "IPMI " + to_string(e) + ": no answer within " + std::to_string(timeout_ms) + " ms";
    return b;
  }
  if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0) {
    b.error = "IPMI " + to_string(e) + ": " + (said.empty() ? "ipmitool failed" : said);
    return b;
  }
  auto t = parse_ipmi_sel_time(r.out);
  if (!t) {
    b.error = "IPMI " + to_string(e) + ": unexpected Get SEL Time answer '" + said + "'";
    return b;
  }
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08x", *t);
  b.raw = hex;
  const int64_t mid_ms = (std::chrono::duration_cast<std::chrono::milliseconds>(sent.time_since_epoch()).count() +
                          std::chrono::duration_cast<std::chrono::milliseconds>(received.time_since_epoch()).count()) /
                         2;
  b.local_time = mid_ms / 1000;
  b.ok = true;
  if (*t <= kIpmiInitTimeLimit) {
    b.never_set = true;  // seconds since the BMC started, not a date
    return b;
  }
  b.bmc_time = static_cast<int64_t>(*t);
  b.skew = *b.bmc_time - b.local_time;
  return b;
}

}  // namespace fwcert
