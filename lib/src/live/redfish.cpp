// The BMC's clock from its Redfish service: DateTime of the first manager, over HTTPS with libcurl.

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>

#include "fwcert/core/civil_time.hpp"
#include "dynamic.hpp"
#include "fwcert/live/probe.hpp"

namespace fwcert {

namespace {

constexpr size_t kMaxBody = 1 << 20;  // a manager resource is a few KiB; a hostile service cannot make us hoard memory

size_t append_body(char* data, size_t size, size_t n, void* user) {
  auto* body = static_cast<std::string*>(user);
  const size_t bytes = size * n;
  if (body->size() + bytes > kMaxBody) return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  body->append(data, bytes);
  return bytes;
}

struct Response {
  long status = 0;
  std::string body;
  std::string error;  // one line when the request failed
};

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Response get(const std::string& url, const RedfishOptions& o) {
  Response r;
  const live::CurlLibrary* lc = live::curl_library(r.error);
  if (!lc) return r;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(lc->easy_init(), lc->easy_cleanup);
  if (!curl) {
    r.error = "libcurl: cannot create a handle";
    return r;
  }
  CURL* c = curl.get();
  const long timeout = o.timeout_ms > 0 ? o.timeout_ms : 5000;
  lc->easy_setopt(c, CURLOPT_URL, url.c_str());
  lc->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  lc->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect could carry the credentials elsewhere
  lc->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);        // threads: no SIGALRM for DNS timeouts
  lc->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout);
  lc->easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
  lc->easy_setopt(c, CURLOPT_WRITEFUNCTION, append_body);
  lc->easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  lc->easy_setopt(c, CURLOPT_USERAGENT, "fwcert");
  curl_slist* headers = lc->slist_append(nullptr, "Accept: application/json");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_guard(headers, lc->slist_free_all);
  lc->easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  if (o.insecure) {
    lc->easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    lc->easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (!o.ca_file.empty()) {
    lc->easy_setopt(c, CURLOPT_CAINFO, o.ca_file.c_str());
  }
  const char* user = std::getenv("FWCERT_REDFISH_USER");
  const char* password = std::getenv("FWCERT_REDFISH_PASSWORD");
  if (user && *user) {
    lc->easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    lc->easy_setopt(c, CURLOPT_USERNAME, user);
    lc->easy_setopt(c, CURLOPT_PASSWORD, password ? password : "");
  } else {
    lc->easy_setopt(c, CURLOPT_NETRC, static_cast<long>(CURL_NETRC_OPTIONAL));
  }
  CURLcode rc = lc->easy_perform(c);
  lc->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  if (rc != CURLE_OK) {
    // curl_easy_strerror only: the detailed error buffer may quote the URL or the peer's words.
    r.error = std::string(rc == CURLE_WRITE_ERROR ? "response larger than 1 MiB" : lc->easy_strerror(rc));
    if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
      r.error += " (use --ca-file with the BMC's CA; --insecure turns verification off)";
  } else if (r.status == 401 || r.status == 403) {
    r.error = "HTTP " + std::to_string(r.status) +
              ": authentication refused (set FWCERT_REDFISH_USER and FWCERT_REDFISH_PASSWORD, or ~/.netrc)";
  } else if (r.status < 200 || r.status > 299) {
    r.error = "HTTP " + std::to_string(r.status);
  }
  return r;
}

// "https://host:port" from any URL of the service (the @odata.id links are absolute paths).
std::string origin_of(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  auto slash = url.find('/', scheme + 3);
  return slash == std::string::npos ? url : url.substr(0, slash);
}

std::optional<nlohmann::json> parse_json(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

int two(const std::string& s, size_t at) {
  auto digit = [](char c) { return isdigit(static_cast<unsigned char>(c)) != 0; };
  if (at + 2 > s.size() || !digit(s[at]) || !digit(s[at + 1])) return -1;
  return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

}  // namespace

std::optional<int64_t> parse_redfish_datetime(const std::string& s) {
  // YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm)
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
      s[16] != ':')
    return std::nullopt;
  int y1 = two(s, 0), y2 = two(s, 2), mo = two(s, 5), d = two(s, 8), h = two(s, 11), mi = two(s, 14), se = two(s, 17);
  if (y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y1 * 100 + y2, mo) || h < 0 || h > 23 ||
      mi < 0 || mi > 59 || se < 0 || se > 60)
    return std::nullopt;
  size_t at = 19;
  if (at < s.size() && s[at] == '.') {
    ++at;
    while (at < s.size() && isdigit(static_cast<unsigned char>(s[at]))) ++at;
  }
  int64_t offset = 0;
  if (at < s.size() && (s[at] == 'Z' || s[at] == 'z') && at + 1 == s.size()) {
    offset = 0;
  } else if (at + 6 == s.size() && (s[at] == '+' || s[at] == '-') && s[at + 3] == ':') {
    int oh = two(s, at + 1), om = two(s, at + 4);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return std::nullopt;
    offset = (s[at] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  int64_t t = days_from_civil(y1 * 100 + y2, mo, d) * 86400 + h * 3600 + mi * 60 + (se == 60 ? 59 : se);
  return t - offset;
}

BmcClock read_redfish_clock(const std::string& url_in, const RedfishOptions& o) {
  BmcClock b;
  std::string url = url_in;
  while (!url.empty() && url.back() == '/') url.pop_back();
  b.source = "redfish " + url;
  const std::string origin = origin_of(url);
  if (url.rfind("https://", 0) != 0 || origin.size() <= 8) {
    b.error = "Redfish URL must start with https:// and name a host";
    return b;
  }
  if (origin.find('@') != std::string::npos) {
    b.source = "redfish (URL with credentials, not shown)";
    b.error = "credentials in the URL are refused: use FWCERT_REDFISH_USER/FWCERT_REDFISH_PASSWORD or ~/.netrc";
    return b;
  }
  if (url == origin) url += "/redfish/v1";
  // Walk: service root -> Managers -> first member -> DateTime. Each step accepts the resource it lands on.
  for (int step = 0; step < 4; ++step) {
    const int64_t sent_ms = unix_now_ms();
    Response r = get(url, o);
    const int64_t received_ms = unix_now_ms();
    if (!r.error.empty()) {
      b.error = url + ": " + r.error;
      return b;
    }
    auto j = parse_json(r.body);
    if (!j) {
      b.error = url + ": the answer is not a JSON object";
      return b;
    }
    if (auto dt = j->find("DateTime"); dt != j->end()) {
      b.source = "redfish " + url;
      if (!dt->is_string()) {
        b.error = url + ": DateTime is not a string";
        return b;
      }
      b.raw = dt->get<std::string>();
      if (auto off = j->find("DateTimeLocalOffset"); off != j->end() && off->is_string())
        b.local_offset = off->get<std::string>();
      b.bmc_time = parse_redfish_datetime(b.raw);
      if (!b.bmc_time) {
        b.error = url + ": DateTime '" + b.raw.substr(0, 64) + "' is not an ISO 8601 date and time";
        return b;
      }
      // The BMC read its clock somewhere between our send and receive: compare with the mid-point.
      b.local_time = (sent_ms + received_ms) / 2 / 1000;
      b.skew = *b.bmc_time - b.local_time;
      b.ok = true;
      return b;
    }
    std::string next;
    if (auto m = j->find("Managers"); m != j->end() && m->is_object() && m->contains("@odata.id") &&
                                      (*m)["@odata.id"].is_string()) {
      next = (*m)["@odata.id"].get<std::string>();
    } else if (auto members = j->find("Members"); members != j->end() && members->is_array()) {
      if (members->empty()) {
        b.error = url + ": the managers collection has no members";
        return b;
      }
      const auto& first = (*members)[0];
      if (first.is_object() && first.contains("@odata.id") && first["@odata.id"].is_string())
        next = first["@odata.id"].get<std::string>();
    }
    if (next.empty() || next[0] != '/') {
      b.error = url + ": neither DateTime nor a link to the managers in the answer";
      return b;
    }
    url = origin + next;
    while (!url.empty() && url.back() == '/') url.pop_back();
  }
  b.error = "Redfish: no manager with a DateTime within 4 links of " + url_in.substr(0, 200);
  return b;
}

}  // namespace fwcert
