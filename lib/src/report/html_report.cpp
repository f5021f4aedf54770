// `fwcert report --html`: the page (see html_report.hpp). Built as one string; no clock is read here.
#include "fwcert/report/html_report.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "fwcert/catalog/catalog.hpp"
#include "fwcert/certs/x509.hpp"
#include "fwcert/core/civil_time.hpp"
#include "fwcert/core/version.hpp"
#include "fwcert/report/text.hpp"

namespace fwcert {
namespace {

// The page's only script: un-hides the filter, sorts the table, and shows a bar's details on focus or hover. It
// reads firmware text through textContent only (never innerHTML). Allowed by its SHA-256 in the CSP.
constexpr std::string_view kScript =
    "(function(){var d=document,t=d.getElementById('certs'),f=d.getElementById('filter'),"
    "det=d.getElementById('detail'),each=function(l,fn){Array.prototype.forEach.call(l,fn);};"
    "d.getElementById('tools').hidden=false;"
    "f.addEventListener('input',function(){var q=f.value.toLowerCase(),n=0;each(t.tBodies[0].rows,function(r){"
    "var h=r.textContent.toLowerCase().indexOf(q)<0;r.hidden=h;if(!h)n++;});"
    "d.getElementById('shown').textContent=n;});"
    "each(t.tHead.rows[0].cells,function(th,i){var b=th.querySelector('button');if(!b)return;"
    "b.addEventListener('click',function(){var asc=th.getAttribute('aria-sort')!=='ascending',"
    "num=th.getAttribute('data-type')==='num';each(t.tHead.rows[0].cells,function(c){c.removeAttribute('aria-sort');});"
    "th.setAttribute('aria-sort',asc?'ascending':'descending');var rows=Array.prototype.slice.call(t.tBodies[0].rows);"
    "rows.sort(function(a,b){var x=a.cells[i].getAttribute('data-v'),y=b.cells[i].getAttribute('data-v'),c;"
    "if(x===null)x=a.cells[i].textContent;if(y===null)y=b.cells[i].textContent;"
    "if(num){x=x===''?Infinity:+x;y=y===''?Infinity:+y;c=x<y?-1:x>y?1:0;}else c=x.localeCompare(y);"
    "return asc?c:-c;});rows.forEach(function(r){t.tBodies[0].appendChild(r);});});});"
    "each(d.querySelectorAll('.bar'),function(g){var s=function(){det.textContent=g.querySelector('title')"
    ".textContent;};g.addEventListener('focus',s);g.addEventListener('mouseenter',s);});})();";

constexpr std::string_view kStyle = R"(
:root{--valid:#2e7d32;--expiring:#e0a100;--expired:#c62828;--nyv:#1565c0;--invalid:#757575}
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#111;background:#fff}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:1.5em}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}th{background:#f0f0f0}
td.n{text-align:right}.mono{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
.grid{display:flex;flex-wrap:wrap;gap:1.5em}.grid>div{min-width:14em}
.tag{display:inline-block;min-width:7.5em;padding:0 4px;border:1px solid #333;font-weight:600;font-size:12px}
.t-valid{background:#c8e6c9}.t-expiring{background:#fff3c4}.t-expired{background:#ffcdd2}
.t-not-yet-valid{background:#bbdefb}.t-invalid-date{background:#e0e0e0}
svg{width:100%;height:auto;display:block}svg text{font:11px system-ui,sans-serif}
.bar:focus{outline:none}.bar:focus rect.b,.bar:hover rect.b{stroke:#000;stroke-width:2}
#detail{position:sticky;bottom:0;background:#fffde7;border:1px solid #999;padding:4px 8px;white-space:pre-line;
min-height:1.4em;font-size:12px}
ul.loc{margin:0;padding-left:1em}td ul{max-height:8em;overflow:auto}
@media print{body{margin:0;font-size:10px}#tools,#detail{display:none}td ul{max-height:none;overflow:visible}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}tr,g.bar{break-inside:avoid}h2{break-after:avoid}}
)";

// Axis and rows of the SVG (user units; the SVG scales to the page width).
constexpr double kWidth = 1200, kPlotX0 = 360, kPlotX1 = 1185, kRow = 16, kAxis = 34;
constexpr int64_t kDay = 86400, kYear = 31556952;  // mean Gregorian year
constexpr int64_t kClipYears = 30;                 // the axis spans at most now +- 30 years; further dates are clipped

std::string esc(std::string_view raw) {
  std::string s = display(raw), out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string date_of(int64_t t) { return rfc3339_utc(t).substr(0, rfc3339_utc(t).find('T')); }

std::string time_text(const TimeValue& t) {
  if (!t.unix) return "invalid date (" + t.raw + ")";
  if (t.no_expiry) return "no expiry (" + t.raw + ")";
  return rfc3339_utc(*t.unix);
}

std::string name_of(const Certificate& c) { return c.common_name.empty() ? c.subject : c.common_name; }

std::string window_text(const ClockWindow& w) {
  if (w.empty) return "none: no BMC clock satisfies every certificate it verifies";
  std::string from = w.from ? rfc3339_utc(*w.from) : "no lower bound";
  std::string until = w.until ? rfc3339_utc(*w.until) : "no upper bound";
  return from + " to " + until;
}

std::string script_hash() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(kScript.data(), kScript.size(), md, &len, EVP_sha256(), nullptr);
  unsigned char b64[96] = {};
  EVP_EncodeBlock(b64, md, static_cast<int>(len));
  return reinterpret_cast<const char*>(b64);
}

struct Axis {
  int64_t lo = 0, hi = 1;
  double x(int64_t t) const {
    double f = (static_cast<double>(std::clamp(t, lo, hi)) - static_cast<double>(lo)) / static_cast<double>(hi - lo);
    return kPlotX0 + f * (kPlotX1 - kPlotX0);
  }
};

Axis make_axis(const ReportModel& m) {
  int64_t lo = m.now, hi = m.now;
  for (const auto& c : m.certs) {
    if (c.cert.not_before.unix) lo = std::min(lo, *c.cert.not_before.unix);
    if (c.cert.not_after.unix && !c.cert.not_after.no_expiry) hi = std::max(hi, *c.cert.not_after.unix);
  }
  for (const auto& im : m.images)
    if (im.bmc_window) {
      if (im.bmc_window->from) lo = std::min(lo, *im.bmc_window->from), hi = std::max(hi, *im.bmc_window->from);
      if (im.bmc_window->until && *im.bmc_window->until < m.now + kClipYears * kYear)
        hi = std::max(hi, *im.bmc_window->until);
    }
  // Absurd dates (year 1, 9999) would squash every real bar into a pixel: clip to now +- 30 years and mark the cut.
  lo = std::max(lo, m.now - kClipYears * kYear);
  hi = std::min(hi, m.now + kClipYears * kYear);
  int64_t pad = std::max<int64_t>((hi - lo) / 40, 30 * kDay);
  return {lo - pad, hi + pad};
}

const char* fill_of(CertStatus s) {
  switch (s) {
    case CertStatus::Valid: return "url(#p-valid)";
    case CertStatus::Expiring: return "url(#p-expiring)";
    case CertStatus::Expired: return "url(#p-expired)";
    case CertStatus::NotYetValid: return "url(#p-not-yet-valid)";
    case CertStatus::InvalidDate: break;
  }
  return "url(#p-invalid-date)";
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// The details of one certificate, as plain text (escaped by the caller): the bar's <title> and aria-label.
std::string details(const ReportCert& c) {
  std::string s = "Status: " + std::string(to_string(c.status));
  if (c.days_left) s += " (" + std::to_string(*c.days_left) + " days left)";
  s += "\nSubject: " + c.cert.subject + "\nIssuer: " + c.cert.issuer;
  s += "\nValid: " + time_text(c.cert.not_before) + " to " + time_text(c.cert.not_after);
  s += "\nRoles: ";
  for (size_t i = 0; i < c.roles.size(); ++i) s += (i ? "; " : "") + c.roles[i];
  if (c.roles.empty()) s += "none inferred";
  if (!c.anomalies.empty()) {
    s += "\nAnomalies: ";
    for (size_t i = 0; i < c.anomalies.size(); ++i) s += (i ? "; " : "") + c.anomalies[i];
  }
  s += "\nSHA-256: " + c.cert.sha256 + "\nLocations:";
  for (const auto& p : c.placements) s += "\n  " + p.location;
  return s;
}

// Timeline groups: the images that carry each certificate. A folder of loose certificate files (House of Keys) would
// make one group per file: past 40 groups, certificates are grouped by the folders of their images instead.
std::vector<std::pair<std::string, std::vector<const ReportCert*>>> timeline_groups(const ReportModel& m) {
  auto group = [&](bool by_folder) {
    std::map<std::string, std::vector<const ReportCert*>> g;
    std::vector<std::string> order;
    for (const auto& c : m.certs) {
      std::set<std::string> keys;
      for (const auto& p : c.placements) {
        std::string k = p.image;
        if (by_folder) k = k.find('/') == std::string::npos ? "." : k.substr(0, k.rfind('/') + 1);
        keys.insert(k);
      }
      std::string key;
      for (const auto& k : keys) key += (key.empty() ? "" : ", ") + k;
      if (!g.count(key)) order.push_back(key);
      g[key].push_back(&c);
    }
    std::vector<std::pair<std::string, std::vector<const ReportCert*>>> out;
    for (const auto& k : order) out.emplace_back(k, g[k]);
    return out;
  };
  auto out = group(false);
  if (out.size() > 40) out = group(true);
  return out;
}

void write_timeline(std::string& h, const ReportModel& m) {
  Axis ax = make_axis(m);
  auto groups = timeline_groups(m);
  std::vector<const ReportImage*> windowed;
  size_t no_window = 0;
  for (const auto& im : m.images)
    if (im.bmc_window) windowed.push_back(&im);
    else if (im.certificates) ++no_window;
  size_t rows = 1 + windowed.size() + (no_window ? 1 : 0);
  for (const auto& [k, v] : groups) rows += 1 + v.size();
  double height = kAxis + rows * kRow + kAxis;
  double bottom = height - kAxis + 4;

  h += "<svg id=\"timeline\" viewBox=\"0 0 " + num(kWidth) + " " + num(height) +
       "\" role=\"group\" aria-label=\"Timeline: one bar per certificate from notBefore to notAfter\">\n";
  // Patterns: colour plus a texture, so status never rests on colour alone (and survives greyscale printing).
  h += "<defs>"
       "<pattern id=\"p-valid\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">"
       "<rect width=\"6\" height=\"6\" fill=\"#66bb6a\"/></pattern>"
       "<pattern id=\"p-expiring\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
       "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#ffd54f\"/>"
       "<rect width=\"2\" height=\"6\" fill=\"#8d6e00\"/></pattern>"
       "<pattern id=\"p-expired\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">"
       "<rect width=\"6\" height=\"6\" fill=\"#ef5350\"/>"
       "<path d=\"M0 0L6 6M6 0L0 6\" stroke=\"#5d0000\" stroke-width=\"1\"/></pattern>"
       "<pattern id=\"p-not-yet-valid\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\"><rect width=\"6\" "
       "height=\"6\" fill=\"#64b5f6\"/><circle cx=\"3\" cy=\"3\" r=\"1.2\" fill=\"#0d2f5e\"/></pattern>"
       "<pattern id=\"p-invalid-date\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\"><rect width=\"8\" "
       "height=\"8\" fill=\"#eeeeee\"/><path d=\"M0 8L8 0\" stroke=\"#757575\" stroke-width=\"1\"/></pattern>"
       "<pattern id=\"p-window\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" "
       "patternTransform=\"rotate(-45)\"><rect width=\"8\" height=\"8\" fill=\"#d7f5dc\"/><rect width=\"1\" "
       "height=\"8\" fill=\"#2e7d32\"/></pattern></defs>\n";

  // Year ticks (every 1, 2, 5 or 10 years so that labels do not collide).
  int64_t y0 = civil_from_unix(ax.lo).year + 1, y1 = civil_from_unix(ax.hi).year;
  int64_t step = (y1 - y0) > 40 ? 10 : (y1 - y0) > 20 ? 5 : (y1 - y0) > 10 ? 2 : 1;
  h += "<g class=\"axis\" aria-hidden=\"true\">";
  for (int64_t y = y0; y <= y1; ++y) {
    if (y % step) continue;
    double x = ax.x(days_from_civil(y, 1, 1) * kDay);
    h += "<line x1=\"" + num(x) + "\" x2=\"" + num(x) + "\" y1=\"" + num(kAxis - 6) + "\" y2=\"" + num(bottom) +
         "\" stroke=\"#ddd\"/><text x=\"" + num(x) + "\" y=\"" + num(kAxis - 10) + "\" text-anchor=\"middle\">" +
         std::to_string(y) + "</text><text x=\"" + num(x) + "\" y=\"" + num(bottom + 14) +
         "\" text-anchor=\"middle\">" + std::to_string(y) + "</text>";
  }
  h += "</g>\n";

  double y = kAxis;
  auto label = [&](double yy, const std::string& text_escaped, const char* weight) {
    h += "<text x=\"4\" y=\"" + num(yy + 11) + "\" font-weight=\"" + weight + "\">" + text_escaped + "</text>";
  };
  // Safe BMC clock windows, one lane per image, on the same axis as the certificates.
  label(y, "Safe BMC clock windows (clocks at which every certificate the BMC verifies is valid)", "bold");
  y += kRow;
  for (const ReportImage* im : windowed) {
    const ClockWindow& w = *im->bmc_window;
    std::string text = "Safe BMC clock window of " + im->path + ": " + window_text(w);
    h += "<g class=\"window\" tabindex=\"0\" role=\"img\" aria-label=\"" + esc(text) + "\"><title>" + esc(text) +
         "</title>";
    label(y, esc(fit_end(display(im->path), 52)), "normal");
    if (w.empty) {
      h += "<text x=\"" + num(kPlotX0) + "\" y=\"" + num(y + 11) + "\" fill=\"#b71c1c\">&#x2716; no safe window: the "
           "certificates the BMC verifies are never all valid at once</text>";
    } else {
      double x0 = w.from ? ax.x(*w.from) : kPlotX0, x1 = w.until ? ax.x(*w.until) : kPlotX1;
      h += "<rect x=\"" + num(x0) + "\" y=\"" + num(y + 1) + "\" width=\"" + num(std::max(1.0, x1 - x0)) +
           "\" height=\"" + num(kRow - 2) + "\" fill=\"url(#p-window)\" stroke=\"#2e7d32\"/>";
      std::string span = (w.from ? date_of(*w.from) : std::string("...")) + " to " +
                         (w.until ? date_of(*w.until) : std::string("..."));
      bool right = x1 + 150 < kPlotX1;
      h += "<text x=\"" + num(right ? x1 + 4 : x0 - 4) + "\" y=\"" + num(y + 11) + "\" text-anchor=\"" +
           (right ? "start" : "end") + "\">window " + esc(span) + "</text>";
    }
    h += "</g>\n";
    y += kRow;
  }
  if (no_window) {
    label(y, esc(std::to_string(no_window) + (no_window == 1 ? " image: " : " images: ") +
                 "the BMC verifies none of their certificates (no clock window to keep)"),
          "normal");
    y += kRow;
  }

  for (const auto& [key, certs] : groups) {
    std::string head =
        key + " (" + std::to_string(certs.size()) + (certs.size() == 1 ? " certificate)" : " certificates)");
    h += "<g class=\"group\"><text x=\"4\" y=\"" + num(y + 12) + "\" font-weight=\"bold\">" +
         esc(fit_middle(display(head), 150)) + "<title>" + esc(head) + "</title></text>";
    h += "<line x1=\"4\" x2=\"" + num(kPlotX1) + "\" y1=\"" + num(y + 14.5) + "\" y2=\"" + num(y + 14.5) +
         "\" stroke=\"#999\"/></g>\n";
    y += kRow;
    for (const ReportCert* c : certs) {
      std::string st(to_string(c->status));
      std::string info = details(*c);
      h += "<g class=\"bar s-" + st + "\" tabindex=\"0\" role=\"img\" data-sha256=\"" + esc(c->cert.sha256) +
           "\" aria-label=\"" + esc(name_of(c->cert) + ": " + info) + "\"><title>" +
           esc(name_of(c->cert) + "\n" + info) + "</title>";
      // The row label carries the status as a word: the first signal, colour and texture come second.
      h += "<text x=\"4\" y=\"" + num(y + 11) + "\"><tspan font-weight=\"bold\" font-family=\"monospace\">" +
           esc(upper(st == "not-yet-valid" ? "not yet" : st == "invalid-date" ? "bad date" : st)) +
           "</tspan><tspan x=\"72\">" + esc(fit_end(display(name_of(c->cert)), 46)) + "</tspan></text>";
      const TimeValue &nb = c->cert.not_before, &na = c->cert.not_after;
      if (!nb.unix || !na.unix) {
        // Unreadable dates: a hatched full-width band that says so, never a guessed span.
        h += "<rect class=\"b\" x=\"" + num(kPlotX0) + "\" y=\"" + num(y + 3) + "\" width=\"" + num(kPlotX1 - kPlotX0) +
             "\" height=\"" + num(kRow - 6) + "\" fill=\"url(#p-invalid-date)\" stroke=\"#757575\" "
             "stroke-dasharray=\"4 3\"/><text x=\"" + num((kPlotX0 + kPlotX1) / 2) + "\" y=\"" + num(y + 11) +
             "\" text-anchor=\"middle\">dates unreadable: " + esc(time_text(nb) + " / " + time_text(na)) + "</text>";
      } else {
        int64_t a = *nb.unix, b = *na.unix;
        // notAfter before notBefore (valid at no time): the span between them, dashed and said in words.
        bool inverted = b < a;
        if (inverted) std::swap(a, b);
        bool clip_left = a < ax.lo, clip_right = b > ax.hi || na.no_expiry;
        double x0 = ax.x(a), x1 = std::max(ax.x(b), x0 + 2);
        h += "<rect class=\"b\" x=\"" + num(x0) + "\" y=\"" + num(y + 3) + "\" width=\"" + num(x1 - x0) +
             "\" height=\"" + num(kRow - 6) + "\" fill=\"" + fill_of(c->status) + "\" stroke=\"#333\" " +
             (inverted ? "stroke-dasharray=\"3 2\" " : "") + "stroke-width=\"0.5\"/>";
        if (inverted)
          h += "<text x=\"" + num(x1 + 4) + "\" y=\"" + num(y + 11) + "\">inverted: notAfter before notBefore</text>";
        if (clip_left)
          h += "<text x=\"" + num(x0 + 2) + "\" y=\"" + num(y + 11) + "\" font-weight=\"bold\">&#x25C0;</text>";
        if (clip_right)
          h += "<text x=\"" + num(x1 - 2) + "\" y=\"" + num(y + 11) + "\" text-anchor=\"end\" font-weight=\"bold\">" +
               (na.no_expiry ? "no expiry &#x25B6;" : esc(date_of(b)) + " &#x25B6;") + "</text>";
      }
      h += "</g>\n";
      y += kRow;
    }
  }
  // "now" on top of every bar.
  double xn = ax.x(m.now);
  h += "<g class=\"now\"><line x1=\"" + num(xn) + "\" x2=\"" + num(xn) + "\" y1=\"" + num(kAxis - 4) + "\" y2=\"" +
       num(bottom) + "\" stroke=\"#000\" stroke-width=\"1.5\" stroke-dasharray=\"6 3\"/><text x=\"" + num(xn + 3) +
       "\" y=\"" + num(kAxis - 22) + "\" font-weight=\"bold\">now " + esc(date_of(m.now)) + "</text></g>\n";
  h += "</svg>\n";
}

std::string status_tag(CertStatus s) {
  std::string st(to_string(s));
  return "<span class=\"tag t-" + st + "\">" + st + "</span>";
}

void write_summary(std::string& h, const ReportModel& m) {
  size_t placements = 0;
  std::map<CertStatus, size_t> by_status;
  std::map<std::string, size_t> by_anomaly;
  for (const auto& c : m.certs) {
    placements += c.placements.size();
    ++by_status[c.status];
    for (const auto& a : c.anomalies) ++by_anomaly[a];
  }
  h += "<section id=\"summary\"><h2>Summary</h2><div class=\"grid\"><div><table><tbody>";
  h += "<tr><th scope=\"row\">Images</th><td class=\"n\">" + std::to_string(m.images.size()) + "</td></tr>";
  h += "<tr><th scope=\"row\">Unique certificates</th><td class=\"n\" id=\"n-certs\">" +
       std::to_string(m.certs.size()) + "</td></tr>";
  h += "<tr><th scope=\"row\">Certificate locations</th><td class=\"n\">" + std::to_string(placements) + "</td></tr>";
  h += "<tr><th scope=\"row\">Private keys</th><td class=\"n\">" + std::to_string(m.private_keys) + "</td></tr>";
  h += "</tbody></table></div><div><table><caption>By status</caption><tbody>";
  for (CertStatus s : {CertStatus::Expired, CertStatus::Expiring, CertStatus::NotYetValid, CertStatus::InvalidDate,
                       CertStatus::Valid})
    h += "<tr><td>" + status_tag(s) + "</td><td class=\"n\">" + std::to_string(by_status[s]) + "</td></tr>";
  h += "</tbody></table></div><div><table><caption>By anomaly</caption><tbody>";
  if (by_anomaly.empty()) h += "<tr><td>none</td><td class=\"n\">0</td></tr>";
  for (const auto& [a, n] : by_anomaly)
    h += "<tr><td>" + esc(a) + "</td><td class=\"n\">" + std::to_string(n) + "</td></tr>";
  h += "</tbody></table></div></div>";

  std::vector<const ReportCert*> next;
  for (const auto& c : m.certs)
    if (c.cert.not_after.unix && !c.cert.not_after.no_expiry && *c.cert.not_after.unix >= m.now) next.push_back(&c);
  std::stable_sort(next.begin(), next.end(), [](const ReportCert* a, const ReportCert* b) {
    return *a->cert.not_after.unix < *b->cert.not_after.unix;
  });
  h += "<h3>Next expiries</h3>";
  if (next.empty()) h += "<p>No certificate expires after now.</p>";
  else h += "<ol>";
  for (size_t i = 0; i < next.size() && i < 10; ++i) {
    const ReportCert& c = *next[i];
    h += "<li>" + esc(date_of(*c.cert.not_after.unix)) + " (" + std::to_string(c.days_left.value_or(0)) +
         " days) " + status_tag(c.status) + " <a href=\"#c-" + esc(c.cert.sha256) + "\">" + esc(name_of(c.cert)) +
         "</a> in " + std::to_string(c.placements.size()) + (c.placements.size() == 1 ? " location" : " locations") +
         "</li>";
  }
  if (!next.empty()) h += "</ol>";

  // Images: folded when many (a folder of loose files), open otherwise.
  h += m.images.size() > 20 ? "<details><summary>Images (" + std::to_string(m.images.size()) + ")</summary>"
                            : std::string("<h3>Images</h3>");
  h += "<table><thead><tr><th>Image</th><th>Certificates</th><th>Private keys</th><th>Safe BMC clock window</th>"
       "</tr></thead><tbody>";
  for (const auto& im : m.images) {
    h += "<tr><td class=\"mono\">" + esc(im.path) + (im.label.empty() ? "" : "<br>" + esc(im.label)) +
         "</td><td class=\"n\">" + std::to_string(im.certificates) + "</td><td class=\"n\">" +
         std::to_string(im.keys) + "</td><td>" +
         (im.bmc_window ? esc(window_text(*im.bmc_window)) : std::string("the BMC verifies none of its certificates")) +
         "</td></tr>";
  }
  h += "</tbody></table>";
  if (m.images.size() > 20) h += "</details>";
  h += "</section>\n";
}

void write_table(std::string& h, const ReportModel& m) {
  h += "<section><h2>Certificates</h2>"
       "<div id=\"tools\" hidden><label>Filter <input id=\"filter\" type=\"search\" size=\"40\" "
       "placeholder=\"any text: CN, issuer, role, image, SHA-256\"></label> <span id=\"shown\">" +
       std::to_string(m.certs.size()) + "</span> shown. Click a column title to sort.</div>";
  h += "<table id=\"certs\"><thead><tr>";
  const char* cols[][2] = {{"Status", ""},      {"Name", ""},          {"Issuer", ""},
                           {"Not before", "num"}, {"Not after", "num"}, {"Days left", "num"},
                           {"Roles", ""},       {"Anomalies", ""},     {"Locations", "num"},
                           {"SHA-256", ""}};
  for (const auto& c : cols)
    h += std::string("<th scope=\"col\"") + (*c[1] ? " data-type=\"num\"" : "") + "><button type=\"button\">" + c[0] +
         "</button></th>";
  h += "</tr></thead><tbody>\n";
  auto date_cell = [](const TimeValue& t) {
    std::string v = t.unix ? std::to_string(*t.unix) : "";
    std::string shown = !t.unix ? "invalid: " + t.raw : t.no_expiry ? "no expiry" : rfc3339_utc(*t.unix);
    return "<td data-v=\"" + v + "\">" + esc(shown) + "</td>";
  };
  for (const auto& c : m.certs) {
    h += "<tr id=\"c-" + esc(c.cert.sha256) + "\"><td>" + status_tag(c.status) + "</td><td>" + esc(name_of(c.cert)) +
         (c.cert.common_name.empty() ? "" : "<br><small>" + esc(c.cert.subject) + "</small>") + "</td><td>" +
         esc(c.cert.issuer) + "</td>" + date_cell(c.cert.not_before) + date_cell(c.cert.not_after);
    h += "<td class=\"n\" data-v=\"" + (c.days_left ? std::to_string(*c.days_left) : std::string()) + "\">" +
         (c.days_left ? std::to_string(*c.days_left) : std::string("-")) + "</td><td>";
    for (size_t i = 0; i < c.roles.size(); ++i) h += (i ? "<br>" : "") + esc(c.roles[i]);
    h += "</td><td>";
    for (size_t i = 0; i < c.anomalies.size(); ++i) h += (i ? "<br>" : "") + esc(c.anomalies[i]);
    h += "</td><td data-v=\"" + std::to_string(c.placements.size()) + "\"><ul class=\"loc mono\">";
    for (const auto& p : c.placements) h += "<li>" + esc(p.location) + "</li>";
    h += "</ul></td><td class=\"mono\">" + esc(c.cert.sha256) + "</td></tr>\n";
  }
  h += "</tbody></table></section>\n";
}

void sort_certs(std::vector<ReportCert>& certs) {
  std::sort(certs.begin(), certs.end(), [](const ReportCert& a, const ReportCert& b) {
    auto key = [](const ReportCert& c) {
      return std::make_pair(!c.cert.not_after.unix.has_value(), c.cert.not_after.unix.value_or(0));
    };
    if (key(a) != key(b)) return key(a) < key(b);
    return a.cert.sha256 < b.cert.sha256;
  });
}

void add_unique(std::vector<std::string>& to, const std::vector<std::string>& from) {
  for (const auto& s : from)
    if (std::find(to.begin(), to.end(), s) == to.end()) to.push_back(s);
}

}  // namespace

std::string html_text(std::string_view raw) { return esc(raw); }

ReportModel report_model_from_scans(const std::vector<ScanReport>& scans, const std::vector<ClockReport>& clocks) {
  ReportModel m;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < scans.size(); ++i) {
    const ScanReport& s = scans[i];
    m.now = s.now;
    m.warn_days = s.warn_days;
    ReportImage im;
    im.path = s.input;
    im.certificates = s.certificates.size();
    im.keys = s.keys.size();
    if (i < clocks.size()) im.bmc_window = clocks[i].bmc_window;
    m.images.push_back(std::move(im));
    m.private_keys += s.keys.size();
    for (const CertRecord& r : s.certificates) {
      auto [it, fresh] = index.emplace(r.cert.sha256, m.certs.size());
      if (fresh) {
        ReportCert c;
        c.cert = r.cert;
        c.cert.der.clear();  // not shown; a big catalog need not keep every DER twice
        c.status = r.status;
        c.days_left = r.days_left;
        m.certs.push_back(std::move(c));
      }
      ReportCert& c = m.certs[it->second];
      add_unique(c.roles, r.roles);
      add_unique(c.anomalies, r.anomalies);
      for (const auto& loc : r.locations) c.placements.push_back({s.input, loc});
    }
  }
  sort_certs(m.certs);
  return m;
}

Result<ReportModel> report_model_from_catalog(Catalog& catalog, int64_t now, int warn_days) {
  ReportModel m;
  m.now = now;
  m.warn_days = warn_days;
  auto images = catalog.list_images();
  if (!images) return images.error();
  auto inputs = clock_inputs_from_catalog(catalog, now);
  if (!inputs) return inputs.error();
  std::map<std::string, ClockReport> clocks;
  ClockOptions opts;
  opts.now = now;
  for (const ScanReport& s : *inputs) clocks.emplace(s.input, analyze_clock(s, opts));
  for (const ImageRow& row : *images) {
    ReportImage im;
    im.path = row.meta.path;
    for (const auto* part : {&row.meta.vendor, &row.meta.board, &row.meta.version})
      if (!part->empty()) im.label += (im.label.empty() ? "" : " ") + *part;
    im.certificates = static_cast<size_t>(row.certificates);
    im.keys = static_cast<size_t>(row.keys);
    if (auto it = clocks.find(row.meta.path); it != clocks.end()) im.bmc_window = it->second.bmc_window;
    m.private_keys += im.keys;
    m.images.push_back(std::move(im));
  }
  CertFilter filter;
  filter.now = now;
  filter.warn_days = warn_days;
  auto certs = catalog.certificates(filter);
  if (!certs) return certs.error();
  for (CertEntry& e : *certs) {
    ReportCert c;
    c.cert = std::move(e.cert);
    c.cert.der.clear();
    c.status = e.status;
    c.days_left = e.days_left;
    c.roles = std::move(e.roles);
    c.anomalies = std::move(e.anomalies);
    for (const auto& p : e.placements) c.placements.push_back({p.image_path, p.location});
    m.certs.push_back(std::move(c));
  }
  sort_certs(m.certs);
  return m;
}

std::string render_html_report(const ReportModel& m) {
  std::string h;
  h.reserve(4096 + m.certs.size() * 3000);
  // No network: default-src 'none' blocks every fetch, image, font, frame and connection; the one script runs by its
  // hash, so even an escaping bug could not run injected script.
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
       "img-src data:; script-src 'sha256-" + script_hash() + "'; base-uri 'none'; form-action 'none'\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
       "<meta name=\"referrer\" content=\"no-referrer\">\n"
       "<title>fwcert report: " + std::to_string(m.certs.size()) + " certificates in " +
       std::to_string(m.images.size()) + " images</title>\n<style>" + std::string(kStyle) + "</style></head><body>\n";
  h += "<header><h1>fwcert report</h1><p>Certificates and private keys found in " + std::to_string(m.images.size()) +
       (m.images.size() == 1 ? " firmware image" : " firmware images") + ", judged at <strong>" +
       esc(rfc3339_utc(m.now)) + "</strong> (\"expiring\": within " + std::to_string(m.warn_days) +
       " days). fwcert " + esc(version()) + ".</p></header>\n";
  write_summary(h, m);
  h += "<section><h2>Timeline</h2><p>One bar per unique certificate from notBefore to notAfter, grouped by the images "
       "that carry it. The status is written at the start of each row and drawn as colour and texture: "
       "<span class=\"tag t-valid\">valid</span> plain green, <span class=\"tag t-expiring\">expiring</span> amber "
       "stripes, <span class=\"tag t-expired\">expired</span> red crosses, <span class=\"tag t-not-yet-valid\">"
       "not-yet-valid</span> blue dots, <span class=\"tag t-invalid-date\">invalid-date</span> a grey dashed band. "
       "The dashed vertical line is now; &#x25C0; and &#x25B6; mark a bar cut at the edge of the axis (which spans at "
       "most " + std::to_string(kClipYears) + " years either side of now). Hover or focus (Tab) a bar for subject, "
       "issuer, roles, SHA-256 and every location.</p>\n";
  write_timeline(h, m);
  h += "<div id=\"detail\" aria-live=\"polite\">Hover or focus a bar: its details show here.</div></section>\n";
  write_table(h, m);
  h += "<script>" + std::string(kScript) + "</script>\n</body></html>\n";
  return h;
}

}  // namespace fwcert
