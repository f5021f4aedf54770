// AMI MegaRAC firmware module table: validator and container reader. Structures and their public sources:
// fwcert/formats/megarac.hpp.
#include "fwcert/formats/megarac.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "fwcert/core/checksum.hpp"
#include "fwcert/scan/validator.hpp"

namespace fwcert::megarac {
namespace {

constexpr uint64_t kScanStep = 0x1000;  // FMHs sit at erase-block starts; 4 KiB covers small-sector flashes too
constexpr uint64_t kMaxScan = uint64_t{1} << 32;  // flash offsets are u32

uint8_t byte_sum(ByteView v, uint64_t at, uint64_t n) {
  uint8_t s = 0;
  for (uint64_t i = 0; i < n; ++i) s = static_cast<uint8_t>(s + v.data()[at + i]);
  return s;
}

Module parse(ByteView v, uint64_t at) {
  Module m;
  m.fmh_at = at;
  m.fmh_major = *v.u8(at + 8);
  m.fmh_minor = *v.u8(at + 9);
  m.allocated = *v.u32le(at + 12);
  m.fmh_location = *v.u32le(at + 16);
  m.header_ok = byte_sum(v, at, kFmhSize) == 0;
  std::string raw = v.cstring(at + 24, 8);
  for (char c : raw) m.name.push_back(c >= 0x20 && c < 0x7f ? c : '.');
  m.major = *v.u8(at + 32);
  m.minor = *v.u8(at + 33);
  m.type = *v.u16le(at + 34);
  m.location = *v.u32le(at + 36);
  m.size = *v.u32le(at + 40);
  m.flags = *v.u16le(at + 44);
  m.load = *v.u32le(at + 46);
  m.checksum = *v.u32le(at + 50);
  m.firmware_info = (m.type & 0xFF) == 0x02;
  return m;
}

// ALT_FMH at v[at]: the link (FMH offset from the erase block start), or nullopt.
std::optional<uint32_t> alt_link(ByteView v, uint64_t at) {
  if (!v.contains(at, kAltFmhSize) || !v.matches(at + 8, "$MODULE$") || v.u16le(at) != 0x55AA) return std::nullopt;
  if (byte_sum(v, at, kAltFmhSize) != 0) return std::nullopt;
  return v.u32le(at + 4);
}

std::string hex32(uint32_t x) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", x);
  return buf;
}

}  // namespace

std::string Module::kind() const {
  if (firmware_info) return "firmware info";
  const unsigned format = type >> 8;
  switch (format) {
    case 0x10: return "CramFS";
    case 0x11: return "JFFS";
    case 0x12: return "JFFS2";
    case 0x03: return "U-Boot image";
    case 0x04: return "ELF";
    case 0x80: return "initrd";
    default: break;
  }
  switch (type & 0xFF) {
    case 0x01: return "boot loader";
    case 0x03: return "kernel";
    case 0x04: return "FPGA";
    case 0x05: return "ELF";
    case 0x06: return "U-Boot image";
    case 0x07: return "CramFS initrd";
    case 0x08: return "Linux kernel";
    case 0x09: return "root file system";
    case 0x10: case 0x20: return "JFFS";
    case 0x11: case 0x21: return "JFFS2";
    case 0x30: return "configuration";
    case 0x40: return "web pages";
    case 0x50: return "PDK";
    default: return "type " + hex(type);
  }
}

bool plausible_fmh(ByteView v, uint64_t pos) {
  return v.contains(pos, kFmhSize) && v.matches(pos, "$MODULE$") && v.u16le(pos + 62) == 0x55AA &&
         v.u16le(pos + 10) == kFmhSize;
}

Table read_table(ByteView v, uint64_t fmh_at) {
  Table t;
  if (!plausible_fmh(v, fmh_at)) return t;
  const Module first = parse(v, fmh_at);
  // FMH_Location is the header's own flash offset (AMI's builder writes it; FMH 1.5 builders may leave it 0).
  const bool placed = first.fmh_location <= fmh_at;
  t.origin = placed ? fmh_at - first.fmh_location : fmh_at;
  if (!placed)
    t.diagnostics.push_back({v.base() + fmh_at + 16, Severity::Info,
                             "FMH_Location " + hex(first.fmh_location) +
                                 " lies before the start of the input: offsets counted from this header"});

  // Candidates: FMH position -> erase block start known from an ALT_FMH (or none).
  std::map<uint64_t, std::optional<uint64_t>> found;
  found[fmh_at] = std::nullopt;
  const uint64_t limit = std::min<uint64_t>(v.size(), t.origin + kMaxScan);
  for (uint64_t q = t.origin; q + kFmhSize <= limit && found.size() < kMaxModules; q += kScanStep)
    if (plausible_fmh(v, q)) found.emplace(q, std::nullopt);
  for (uint64_t b = t.origin; b + kEraseBlock <= limit && found.size() < kMaxModules; b += kEraseBlock) {
    auto link = alt_link(v, b + kEraseBlock - kAltFmhSize);
    if (link && *link < kEraseBlock - kAltFmhSize && plausible_fmh(v, b + *link)) found[b + *link] = b;
  }
  if (found.size() >= kMaxModules)
    t.diagnostics.push_back({v.base() + t.origin, Severity::Warning,
                             "more than " + std::to_string(kMaxModules) + " module headers (cap); rest not listed"});

  uint64_t end = fmh_at + kFmhSize;
  for (const auto& [q, alt_block] : found) {
    Module m = parse(v, q);
    // Headers of another flash (a second image after this one) place themselves elsewhere: not this table's.
    if (q != fmh_at && m.fmh_location != 0 && t.origin + m.fmh_location != q) continue;
    if (q < fmh_at && !placed) continue;
    m.via_alt = alt_block.has_value();
    if (alt_block) {
      m.block_at = *alt_block;
    } else if (placed && t.origin + m.fmh_location == q) {
      // A header inside its block (the boot loader's, reached through the ALT_FMH) counts from the block start.
      m.block_at = t.origin + (m.fmh_location - m.fmh_location % kEraseBlock);
    } else {
      m.block_at = q;
    }
    m.data_at = m.block_at + m.location;
    const uint64_t fmh_abs = v.base() + q;
    if (!m.header_ok)
      t.diagnostics.push_back({fmh_abs + 23, Severity::Error,
                               "module " + m.name + ": header checksum does not sum to 0 (damaged header)"});
    const ByteView data = v.clamp(m.data_at, m.size);
    if (data.size() < m.size) {
      m.truncated = true;
      t.diagnostics.push_back({fmh_abs + 36, Severity::Warning,
                               "module " + m.name + ": data " + hex(m.data_at - t.origin) + "+" + hex(m.size) +
                                   " runs past the end of the input (" + std::to_string(data.size()) + " bytes present)"});
    }
    if (m.firmware_info) {
      // The firmware-info module's checksum is a CRC-32 of the flash from its start to the end of this module's
      // erase block, leaving out this header's checksum byte (+0x17) and checksum field (+0x32..+0x35).
      const uint64_t stop = m.block_at + kEraseBlock;
      if (q >= t.origin && stop <= v.size() && q + kFmhSize <= stop) {
        uint32_t c = crc32(*v.sub(t.origin, q + 0x17 - t.origin));
        c = crc32(*v.sub(q + 0x18, 0x32 - 0x18), c);
        c = crc32(*v.sub(q + 0x36, stop - q - 0x36), c);
        m.computed = c;
        if (c == m.checksum) m.crc = Module::Check::Ok;
        else if (m.flags & kFlagChecksum) m.crc = Module::Check::Bad;
      }
      std::string text = data.cstring(0, std::min<uint64_t>(data.size(), 4096));
      if (auto p = text.find("FW_VERSION="); p != std::string::npos) {
        auto e = text.find_first_of("\r\n", p);
        t.fw_version = printable(text.substr(p + 11, e == std::string::npos ? std::string::npos : e - p - 11), 40);
      }
    } else if (!data.empty()) {
      m.computed = crc32(data);
      if (m.computed == m.checksum && !m.truncated) m.crc = Module::Check::Ok;
      else if (m.flags & kFlagChecksum) m.crc = Module::Check::Bad;
    }
    if (m.crc == Module::Check::Bad)
      t.diagnostics.push_back({fmh_abs + 50, Severity::Error,
                               "module " + m.name + ": stored CRC-32 " + hex32(m.checksum) + ", computed " +
                                   hex32(m.computed) + (m.firmware_info ? " (whole-image CRC)" : "")});
    end = std::max<uint64_t>(end, q + kFmhSize);
    end = std::max<uint64_t>(end, m.data_at + m.size);
    if (m.allocated > 0) end = std::max<uint64_t>(end, m.block_at + m.allocated);
    t.modules.push_back(std::move(m));
  }
  t.end = std::min<uint64_t>(end, v.size());
  return t;
}

}  // namespace fwcert::megarac

namespace fwcert {
namespace {

std::optional<Hit> validate_megarac(const ValidateInput& in) {
  const ByteView v = in.image;
  if (!megarac::plausible_fmh(v, in.start)) return std::nullopt;
  megarac::Table t = megarac::read_table(v, in.start);
  if (t.modules.empty()) return std::nullopt;
  Hit hit;
  hit.offset = v.base() + t.origin;
  hit.size = t.end - t.origin;
  hit.type = "megarac";
  // The walk goes on inside (the file systems of the modules are listed); the other headers are this table's.
  hit.nesting = Nesting::Container;
  hit.diagnostics = t.diagnostics;
  bool bad = false;
  std::string list;
  for (const auto& m : t.modules) {
    std::string status;
    switch (m.crc) {
      case megarac::Module::Check::Ok: status = m.firmware_info ? "image CRC ok" : "CRC ok"; break;
      case megarac::Module::Check::Bad: status = "CRC MISMATCH"; bad = true; break;
      default: status = "CRC not checked"; break;
    }
    if (!m.header_ok) {
      status += ", header checksum bad";
      bad = true;
    }
    if (m.truncated) {
      status += ", truncated";
      bad = true;
    }
    if (!list.empty()) list += "; ";
    list += m.name + " " + hex(m.data_at - t.origin) + "+" + hex(m.size) + " (" + m.kind() + ", " + status + ")";
  }
  hit.confidence = bad ? Confidence::Medium : Confidence::High;
  hit.description = "AMI MegaRAC firmware module table";
  if (!t.fw_version.empty()) hit.description += ", FW_VERSION " + t.fw_version;
  hit.description += ", " + std::to_string(t.modules.size()) + (t.modules.size() == 1 ? " module: " : " modules: ") + list;
  return hit;
}

bool erased(uint8_t b) { return b == 0xFF || b == 0x00; }

std::string member_name(const std::string& raw, size_t index) {
  std::string s;
  for (char c : raw)
    s.push_back((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                        c == '.'
                    ? c
                    : '_');
  if (s.empty() || s == "." || s == "..") s = "module" + std::to_string(index);
  return s;
}

// The table of a region that starts at the flash origin: its first plausible header is the one the walk validated.
std::optional<megarac::Table> region_table(ByteView region) {
  for (uint64_t q = 0; q + megarac::kFmhSize <= region.size();) {
    const void* p = std::memchr(region.data() + q, '$', region.size() - q);
    if (!p) break;
    q = static_cast<uint64_t>(static_cast<const uint8_t*>(p) - region.data());
    if (megarac::plausible_fmh(region, q)) return megarac::read_table(region, q);
    ++q;
  }
  return std::nullopt;
}

// The member names of the modules, in table order: sanitised, a repeated name numbered.
std::vector<std::string> member_names(const megarac::Table& t) {
  std::vector<std::string> out;
  std::set<std::string> names;
  for (size_t i = 0; i < t.modules.size(); ++i) {
    std::string name = member_name(t.modules[i].name, i);
    for (int k = 2; names.count(name); ++k) name = member_name(t.modules[i].name, i) + "-" + std::to_string(k);
    names.insert(name);
    out.push_back(name);
  }
  return out;
}

}  // namespace

bool megarac::holds_cramfs(ByteView region, const std::string& member) {
  auto t = region_table(region);
  if (!t) return false;
  const auto names = member_names(*t);
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == member) return (t->modules[i].type >> 8) == 0x10 || (t->modules[i].type & 0xFF) == 0x07;
  return false;
}

ExtractResult read_megarac(ByteView region, Budget& budget, const ContainerReadOptions&) {
  ExtractResult r;
  auto table = region_table(region);
  if (!table) {
    r.diagnostics.push_back({region.base(), Severity::Error, "megarac: no firmware module header"});
    return r;
  }
  const megarac::Table& t = *table;
  r.diagnostics = t.diagnostics;
  const std::vector<std::string> names = member_names(t);
  std::vector<std::pair<uint64_t, uint64_t>> covered;  // [begin, end) of headers and module data
  for (size_t i = 0; i < t.modules.size(); ++i) {
    const megarac::Module& m = t.modules[i];
    covered.emplace_back(m.fmh_at, m.fmh_at + megarac::kFmhSize);
    if (m.via_alt) covered.emplace_back(m.block_at + megarac::kEraseBlock - megarac::kAltFmhSize,
                                        m.block_at + megarac::kEraseBlock);
    covered.emplace_back(m.data_at, m.data_at + m.size);
    if (!budget.take_entry()) {
      r.limited = true;
      r.diagnostics.push_back({region.base(), Severity::Warning, "megarac: entry limit reached"});
      return r;
    }
    Entry e;
    e.path = names[i];
    e.kind = EntryKind::File;
    e.mode = 0100644;
    e.size = m.size;
    e.view = region.clamp(m.data_at, m.size);
    e.complete = !m.truncated;
    if (m.truncated)
      e.diagnostics.push_back({region.base() + m.fmh_at + 36, Severity::Warning,
                               "module truncated: " + std::to_string(e.view.size()) + " of " + std::to_string(m.size) +
                                   " bytes present"});
    if (m.crc == megarac::Module::Check::Bad)
      e.diagnostics.push_back({region.base() + m.fmh_at + 50, Severity::Error,
                               "module CRC-32 mismatch: stored " + hex(m.checksum) + ", computed " + hex(m.computed) +
                                   "; extracted as the header places it"});
    if (!m.header_ok)
      e.diagnostics.push_back({region.base() + m.fmh_at + 23, Severity::Error, "module header checksum bad"});
    if (m.compression() == 1)
      e.diagnostics.push_back({region.base() + m.fmh_at + 44, Severity::Info,
                               "module flagged miniLZO-compressed: extracted as stored"});
    r.entries.push_back(std::move(e));
  }
  // Programmed bytes that no header accounts for (a module whose header was destroyed, data past a module's end in
  // its allocation): members of their own, so nothing in the flash goes unread.
  std::sort(covered.begin(), covered.end());
  uint64_t pos = 0;
  auto gap = [&](uint64_t from, uint64_t to) {
    to = std::min<uint64_t>(to, t.end);
    while (from < to && erased(region.data()[from])) ++from;
    while (to > from && erased(region.data()[to - 1])) --to;
    if (from >= to) return;
    from -= from % 16;
    if (!budget.take_entry()) {
      r.limited = true;
      return;
    }
    Entry e;
    e.path = "gap@" + hex(from);
    e.kind = EntryKind::File;
    e.mode = 0100644;
    e.view = region.clamp(from, to - from);
    e.size = e.view.size();
    e.diagnostics.push_back({region.base() + from, Severity::Info,
                             std::to_string(e.size) + " programmed bytes outside every module"});
    r.entries.push_back(std::move(e));
  };
  for (const auto& [b, e] : covered) {
    if (b > pos) gap(pos, std::min<uint64_t>(b, region.size()));
    pos = std::max(pos, e);
  }
  if (pos < t.end) gap(pos, t.end);
  return r;
}

void register_megarac_validators(ValidatorRegistry& registry) {
  registry.add("megarac", "AMI MegaRAC firmware module table ($MODULE$ headers, header checksums, module CRC-32)",
               validate_megarac);
}

}  // namespace fwcert
