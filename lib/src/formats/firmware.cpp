// Firmware-level structures: flattened device trees and U-Boot FIT images, the CRC-32 lookup table compiled into
// most boot loaders, U-Boot environments, and the Supermicro BMC image index and footers (ASPEED `[img]:` index,
// `ATENs_FW` global footer, Winbond WPCM450 image footers). Byte layouts: FORMATS.md sections 3 and 4.
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cctype>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fwcert/core/checksum.hpp"
#include "fwcert/core/crypto_providers.hpp"
#include "fwcert/formats/aspeed.hpp"
#include "fwcert/formats/fit.hpp"
#include "fwcert/scan/validator.hpp"

namespace fwcert {
namespace {

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

std::string hex_bytes(ByteView v, size_t max) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < v.size() && i < max; ++i) {
    out.push_back(kDigits[v.data()[i] >> 4]);
    out.push_back(kDigits[v.data()[i] & 15]);
  }
  if (v.size() > max) out += "...";
  return out;
}

// A property value as text: up to the first NUL, non-printables shown as '.'.
std::string prop_string(ByteView v, size_t max = 64) {
  std::string s = v.cstring(0, v.size());
  return printable(s, max);
}

// ---------------------------------------------------------------------------------------------------------------
// Flattened device tree / FIT (FORMATS.md 3)

constexpr uint32_t kFdtBeginNode = 1, kFdtEndNode = 2, kFdtProp = 3, kFdtNop = 4, kFdtEnd = 9;
constexpr size_t kFdtMaxDepth = 64;                // libfdt's FDT_MAX_DEPTH
constexpr uint64_t kFdtMaxTokens = 1u << 20;       // far above any real tree; bounds the walk on hostile input
constexpr uint64_t kFdtMaxTotalSize = 1ull << 31;  // larger "trees" are garbage headers
constexpr size_t kFdtMaxName = 256;                // node/property names (dtc limits names to 31 chars + unit)
constexpr size_t kFitMaxImages = 256;
constexpr uint64_t kFdtMaxRsvEntries = 4096;

struct FitHash {
  std::string node, algo;
  ByteView value;
};

struct FitImage {
  std::string unit, description, type, arch, os, compression;
  std::optional<ByteView> data;  // inline payload
  std::optional<uint32_t> data_size, data_offset, data_position;
  std::vector<FitHash> hashes;
};

struct FdtTree {
  bool ok = false;
  std::string error;
  uint64_t error_at = 0;  // absolute
  uint64_t nodes = 0, props = 0, struct_used = 0;
  bool has_images = false, has_configs = false;
  uint64_t configs = 0;
  std::string root_description, model, default_config;
  std::optional<uint32_t> timestamp;
  std::vector<FitImage> images;
  bool images_capped = false;
};

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Walks the structure block token by token (FORMATS.md 3.2), collecting what a FIT needs on the way.
FdtTree walk_fdt_struct(ByteView st, ByteView strings) {
  FdtTree t;
  Reader r(st, 0, true);
  std::vector<std::string> path;
  bool root_done = false;
  auto fail = [&](uint64_t at, std::string msg) {
    t.error = std::move(msg);
    t.error_at = st.base() + at;
  };
  for (uint64_t tokens = 0;; ++tokens) {
    if (tokens >= kFdtMaxTokens) {
      fail(r.pos(), "more than " + std::to_string(kFdtMaxTokens) + " tokens (cap)");
      return t;
    }
    const uint64_t tok_at = r.pos();
    auto tok = r.u32be();
    if (!tok) {
      fail(tok_at, "structure block ends without FDT_END");
      return t;
    }
    switch (*tok) {
      case kFdtBeginNode: {
        if (root_done) return fail(tok_at, "node after the root node was closed"), t;
        if (path.size() >= kFdtMaxDepth) return fail(tok_at, "nodes nested deeper than 64"), t;
        ByteView rest = st.tail(r.pos()).clamp(0, kFdtMaxName + 1);
        const void* nul = std::memchr(rest.data(), 0, rest.size());
        if (!nul) return fail(r.pos(), "node name not terminated"), t;
        const size_t n = static_cast<size_t>(static_cast<const uint8_t*>(nul) - rest.data());
        std::string name(reinterpret_cast<const char*>(rest.data()), n);
        if (path.empty() && !name.empty()) return fail(r.pos(), "root node has a name"), t;
        if (!path.empty() && name.empty()) return fail(r.pos(), "node without a name"), t;
        if (!r.skip(n + 1) || !r.align(4)) return fail(r.pos(), "node name runs past the structure block"), t;
        path.push_back(std::move(name));
        ++t.nodes;
        if (path.size() == 2 && path[1] == "images") t.has_images = true;
        if (path.size() == 2 && path[1] == "configurations") t.has_configs = true;
        if (path.size() == 3 && path[1] == "configurations") ++t.configs;
        if (path.size() == 3 && path[1] == "images") {
          if (t.images.size() < kFitMaxImages) {
            t.images.push_back(FitImage{});
            t.images.back().unit = printable(path[2], 64);
          } else {
            t.images_capped = true;
          }
        }
        if (path.size() == 4 && path[1] == "images" && starts_with(path[3], "hash") && !t.images.empty() &&
            !t.images_capped && t.images.back().hashes.size() < 8)
          t.images.back().hashes.push_back(FitHash{printable(path[3], 32), {}, {}});
        break;
      }
      case kFdtEndNode:
        if (path.empty()) return fail(tok_at, "FDT_END_NODE without an open node"), t;
        path.pop_back();
        if (path.empty()) root_done = true;
        break;
      case kFdtProp: {
        if (path.empty()) return fail(tok_at, "property outside any node"), t;
        auto len = r.u32be();
        auto nameoff = r.u32be();
        if (!len || !nameoff) return fail(tok_at, "property header runs past the structure block"), t;
        auto value = r.bytes(*len);
        if (!value || !r.align(4)) return fail(tok_at, "property value runs past the structure block"), t;
        if (*nameoff >= strings.size()) return fail(tok_at, "property name offset outside the strings block"), t;
        ByteView nm = strings.clamp(*nameoff, kFdtMaxName + 1);
        const void* nul = std::memchr(nm.data(), 0, nm.size());
        if (!nul) return fail(tok_at, "property name not terminated in the strings block"), t;
        std::string_view name(reinterpret_cast<const char*>(nm.data()),
                              static_cast<size_t>(static_cast<const uint8_t*>(nul) - nm.data()));
        ++t.props;
        const size_t d = path.size();
        if (d == 1) {
          if (name == "description") t.root_description = prop_string(*value);
          if (name == "model") t.model = prop_string(*value);
          if (name == "timestamp" && value->size() == 4) t.timestamp = value->u32be(0);
        } else if (d == 2 && path[1] == "configurations" && name == "default") {
          t.default_config = prop_string(*value);
        } else if (d == 3 && path[1] == "images" && !t.images.empty() && !t.images_capped) {
          FitImage& im = t.images.back();
          if (name == "description") im.description = prop_string(*value);
          else if (name == "type") im.type = prop_string(*value, 32);
          else if (name == "arch") im.arch = prop_string(*value, 32);
          else if (name == "os") im.os = prop_string(*value, 32);
          else if (name == "compression") im.compression = prop_string(*value, 32);
          else if (name == "data") im.data = *value;
          else if (name == "data-size" && value->size() == 4) im.data_size = value->u32be(0);
          else if (name == "data-offset" && value->size() == 4) im.data_offset = value->u32be(0);
          else if (name == "data-position" && value->size() == 4) im.data_position = value->u32be(0);
        } else if (d == 4 && path[1] == "images" && starts_with(path[3], "hash") && !t.images.empty() &&
                   !t.images_capped && !t.images.back().hashes.empty()) {
          FitHash& h = t.images.back().hashes.back();
          if (name == "algo") h.algo = prop_string(*value, 32);
          if (name == "value") h.value = *value;
        }
        break;
      }
      case kFdtNop:
        break;
      case kFdtEnd:
        if (!root_done) return fail(tok_at, "FDT_END inside an open node"), t;
        t.struct_used = r.pos();
        t.ok = true;
        return t;
      default:
        return fail(tok_at, "unknown structure token " + hex(*tok)), t;
    }
  }
}

// Hash of a FIT payload (FORMATS.md 3.3). nullopt when the algorithm is not one we compute.
std::optional<std::vector<uint8_t>> fit_digest(const std::string& algo, ByteView data) {
  load_crypto_providers();
  if (algo == "crc32") {
    uint32_t c = crc32(data);
    return std::vector<uint8_t>{uint8_t(c >> 24), uint8_t(c >> 16), uint8_t(c >> 8), uint8_t(c)};
  }
  const EVP_MD* md = nullptr;
  if (algo == "md5") md = EVP_md5();
  else if (algo == "sha1") md = EVP_sha1();
  else if (algo == "sha256") md = EVP_sha256();
  else if (algo == "sha384") md = EVP_sha384();
  else if (algo == "sha512") md = EVP_sha512();
  if (!md) return std::nullopt;
  std::vector<uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &n, md, nullptr) != 1) return std::nullopt;
  out.resize(n);
  return out;
}

// The FDT header fields (FORMATS.md 3.1), checked cheaply: all u32 big-endian.
struct FdtHeader {
  uint32_t totalsize = 0, off_struct = 0, off_strings = 0, off_rsv = 0, version = 0, size_strings = 0;
  uint64_t size_struct = 0;
};

std::optional<FdtHeader> read_fdt_header(ByteView all) {
  if (all.u32be(0) != 0xd00dfeedu) return std::nullopt;
  auto totalsize = all.u32be(4), off_struct = all.u32be(8), off_strings = all.u32be(12), off_rsv = all.u32be(16),
       version = all.u32be(20), last_comp = all.u32be(24);
  if (!totalsize || !off_struct || !off_strings || !off_rsv || !version || !last_comp) return std::nullopt;
  // Versions 16 and 17 are what dtc has written since 2005; last_comp_version 16 (or older 2..16 readers).
  if (*version < 16 || *version > 17 || *last_comp < 2 || *last_comp > *version) return std::nullopt;
  const uint64_t header_size = *version >= 17 ? 40 : 36;
  if (*totalsize < header_size || *totalsize > kFdtMaxTotalSize) return std::nullopt;
  if (*off_rsv < header_size || *off_rsv >= *totalsize || *off_rsv % 8 != 0) return std::nullopt;
  if (*off_struct < header_size || *off_struct >= *totalsize || *off_struct % 4 != 0) return std::nullopt;
  if (*off_strings < header_size || *off_strings > *totalsize) return std::nullopt;
  auto size_strings = all.u32be(32);
  if (!size_strings || *size_strings > *totalsize - *off_strings) return std::nullopt;
  uint64_t size_struct = *totalsize - *off_struct;
  if (*version >= 17) {
    auto sz = all.u32be(36);
    if (!sz || *sz > *totalsize - *off_struct || *sz < 4) return std::nullopt;
    size_struct = *sz;
  }
  return FdtHeader{*totalsize, *off_struct, *off_strings, *off_rsv, *version, *size_strings, size_struct};
}

// Where an image's payload lies: inline `data`, or external `data-size` with `data-position` (from the FIT start) or
// `data-offset` (from the 4-aligned end of the tree). Sets rel to the payload's offset from the FIT start when external.
std::optional<ByteView> fit_image_data(ByteView all, uint64_t ext_base, const FitImage& im, std::optional<uint64_t>& rel,
                                       std::string& where) {
  if (im.data) return im.data;
  if (!im.data_size) return std::nullopt;
  if (im.data_position) {
    rel = *im.data_position;
    where = ", external at position " + hex(*im.data_position);
  } else if (im.data_offset) {
    rel = ext_base + *im.data_offset;
    where = ", external at offset " + hex(*im.data_offset);
  } else {
    return std::nullopt;
  }
  return all.sub(*rel, *im.data_size);
}

std::optional<Hit> validate_fdt(const ValidateInput& in) {
  const ByteView all = in.image.tail(in.start);
  auto header = read_fdt_header(all);
  if (!header) return std::nullopt;
  const FdtHeader& hdr = *header;
  const uint64_t size_struct = hdr.size_struct;

  Hit hit;
  hit.offset = all.base();
  hit.type = "fdt";
  hit.nesting = Nesting::Container;
  const bool truncated = hdr.totalsize > all.size();
  const ByteView blob = all.clamp(0, hdr.totalsize);
  if (truncated)
    hit.diag(all.base() + all.size(), Severity::Error,
             "truncated: totalsize " + std::to_string(hdr.totalsize) + " bytes, only " + std::to_string(all.size()) +
                 " bytes remain");

  // Memory reservation block: (address, size) u64 pairs ended by (0, 0).
  uint64_t rsv_entries = 0;
  bool rsv_ok = false;
  for (uint64_t p = hdr.off_rsv; rsv_entries < kFdtMaxRsvEntries; p += 16) {
    auto a = blob.u64be(p), s = blob.u64be(p + 8);
    if (!a || !s) break;
    if (*a == 0 && *s == 0) {
      rsv_ok = true;
      break;
    }
    ++rsv_entries;
  }
  if (!rsv_ok && !truncated)
    hit.diag(blob.base() + hdr.off_rsv, Severity::Warning, "memory reservation block not terminated");

  const ByteView st = blob.clamp(hdr.off_struct, size_struct);
  const ByteView strings = blob.clamp(hdr.off_strings, hdr.size_strings);
  FdtTree tree = walk_fdt_struct(st, strings);
  if (!tree.ok) hit.diag(tree.error_at, Severity::Error, "structure block: " + tree.error);
  if (tree.ok && hdr.version >= 17 && tree.struct_used != size_struct)
    hit.diag(st.base() + tree.struct_used, Severity::Info,
             "FDT_END at " + std::to_string(tree.struct_used) + " bytes into a structure block of " +
                 std::to_string(size_struct));

  if (!tree.ok) hit.confidence = Confidence::Low;
  else if (truncated || !rsv_ok) hit.confidence = Confidence::Medium;
  else hit.confidence = Confidence::High;
  uint64_t size = blob.size();

  const bool is_fit = tree.ok && tree.has_images && !tree.images.empty();
  if (!is_fit) {
    hit.size = size;
    hit.description = "Flattened device tree, size: " + std::to_string(hdr.totalsize) +
                      " bytes, version: " + std::to_string(hdr.version);
    if (!tree.model.empty()) hit.description += ", model: \"" + tree.model + "\"";
    return hit;
  }

  // FIT: describe each image, find external payloads and verify hashes (FORMATS.md 3.3).
  hit.type = "fit";
  const uint64_t ext_base = (uint64_t{hdr.totalsize} + 3) & ~uint64_t{3};
  std::string list;
  size_t hashes_ok = 0;
  bool hash_bad = false, ext_missing = false;
  for (const FitImage& im : tree.images) {
    std::string where;
    std::optional<uint64_t> rel;
    std::optional<ByteView> data = fit_image_data(all, ext_base, im, rel, where);
    const uint64_t data_len = im.data ? im.data->size() : im.data_size.value_or(0);
    if (rel) {
      if (data) size = std::max<uint64_t>(size, *rel + *im.data_size);
      else {
        ext_missing = true;
        hit.diag(all.base() + *rel, Severity::Warning,
                 "external data of image " + im.unit + " (" + std::to_string(*im.data_size) +
                     " bytes) lies beyond the end of the input");
      }
    }
    std::string hash_text;
    for (const FitHash& h : im.hashes) {
      if (!data || h.algo.empty() || h.value.empty()) continue;
      auto d = fit_digest(h.algo, *data);
      if (!d) continue;
      if (d->size() == h.value.size() && std::memcmp(d->data(), h.value.data(), d->size()) == 0) {
        ++hashes_ok;
        hash_text += ", " + h.algo + " ok";
      } else {
        hash_bad = true;
        hash_text += ", " + h.algo + " MISMATCH";
        hit.diag(h.value.base(), Severity::Error,
                 "image " + im.unit + " " + h.node + ": stored " + h.algo + " " + hex_bytes(h.value, 64) +
                     ", computed " + hex_bytes(ByteView(d->data(), d->size()), 64));
      }
    }
    if (!list.empty()) list += "; ";
    list += im.unit + " (type: " + (im.type.empty() ? "?" : im.type) +
            ", compression: " + (im.compression.empty() ? "?" : im.compression) +
            ", arch: " + (im.arch.empty() ? "?" : im.arch) + ", data: " + std::to_string(data_len) + " bytes" +
            where + hash_text + ")";
  }
  if (tree.images_capped)
    hit.diag(st.base(), Severity::Warning, "more than " + std::to_string(kFitMaxImages) + " images; rest not listed");
  if ((hash_bad || ext_missing) && hit.confidence == Confidence::High) hit.confidence = Confidence::Medium;
  if (!tree.has_configs) hit.diag(st.base(), Severity::Info, "no /configurations node");

  hit.size = size;
  std::string d = "U-Boot FIT image, size: " + std::to_string(size) + " bytes";
  if (!tree.root_description.empty()) d += ", \"" + tree.root_description + "\"";
  if (tree.timestamp) d += ", created: " + utc_time(*tree.timestamp);
  d += ", " + std::to_string(tree.images.size()) + (tree.images.size() == 1 ? " image: " : " images: ") + list;
  d += ", " + std::to_string(tree.configs) + (tree.configs == 1 ? " configuration" : " configurations");
  if (!tree.default_config.empty()) d += " (default: " + tree.default_config + ")";
  if (hashes_ok) d += ", " + std::to_string(hashes_ok) + " hashes verified";
  hit.description = std::move(d);
  return hit;
}

// ---------------------------------------------------------------------------------------------------------------
// CRC-32 lookup table (reflected polynomial 0xEDB88320), as compiled into zlib, U-Boot, busybox, ...

const std::array<uint32_t, 256>& crc32_table() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

std::optional<Hit> validate_crc32_table(const ValidateInput& in) {
  const ByteView v = in.image.tail(in.start);
  const auto& table = crc32_table();
  for (bool be : {false, true}) {
    if (v.u32(4, be) != table[1] || v.u32(8, be) != table[2]) continue;
    size_t n = 0;
    while (n < 256) {
      auto e = v.u32(4 * n, be);
      if (!e) break;
      if (*e != table[n]) return std::nullopt;  // the magic was a coincidence
      ++n;
    }
    Hit hit;
    hit.offset = v.base();
    hit.type = "crc32";
    hit.nesting = Nesting::Opaque;
    hit.description = std::string("CRC32 polynomial table, ") + (be ? "big endian" : "little endian");
    if (n == 256) {
      hit.size = 1024;
      hit.confidence = Confidence::High;
    } else {
      hit.size = 4 * n;
      hit.confidence = Confidence::Low;
      hit.diag(v.base() + 4 * n, Severity::Warning,
               "truncated: only " + std::to_string(n) + " of 256 entries present");
    }
    return hit;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------------------------
// U-Boot environment: u32 CRC-32 of the data area, [1 flag byte for redundant environments], then
// "name=value\0" pairs ended by an empty string, padded to the environment size (CONFIG_ENV_SIZE).

constexpr uint64_t kEnvMaxSize = 0x40000;
constexpr uint64_t kEnvSizeStep = 0x200;  // env sizes are whole flash pages/sectors; check every 512 bytes
constexpr size_t kEnvMaxVars = 8192;

bool env_name_char(uint8_t c) { return c > 0x20 && c < 0x7f && c != '='; }
bool env_value_char(uint8_t c) { return c >= 0x20 || c == '\t' || c == '\n' || c == '\r'; }

std::optional<Hit> validate_uboot_env(const ValidateInput& in) {
  const ByteView img = in.image;
  const uint32_t at = in.signature ? in.signature->at : 4;
  const uint64_t p = in.start + at;  // first variable
  if (p < 4 || p >= img.size()) return std::nullopt;

  // 1. The variable list must be well formed (cheap; random bytes fail within a few bytes).
  const uint64_t limit = std::min<uint64_t>(img.size(), p + kEnvMaxSize);
  uint64_t q = p, list_end = 0;
  size_t vars = 0;
  std::string bootcmd;
  bool has_bootcmd = false;
  while (true) {
    if (q >= limit) return std::nullopt;  // no terminating empty string within the largest env size
    if (img.data()[q] == 0) {
      list_end = q + 1;
      break;
    }
    const uint8_t* s = img.data() + q;
    const void* nul = std::memchr(s, 0, static_cast<size_t>(limit - q));
    if (!nul) return std::nullopt;
    const size_t len = static_cast<size_t>(static_cast<const uint8_t*>(nul) - s);
    size_t eq = 0;
    while (eq < len && s[eq] != '=') {
      if (!env_name_char(s[eq])) return std::nullopt;
      ++eq;
    }
    if (eq == 0 || eq == len) return std::nullopt;
    for (size_t i = eq + 1; i < len; ++i)
      if (!env_value_char(s[i])) return std::nullopt;
    if (++vars > kEnvMaxVars) return std::nullopt;
    if (std::string_view(reinterpret_cast<const char*>(s), eq) == "bootcmd") {
      has_bootcmd = true;
      bootcmd = printable(std::string_view(reinterpret_cast<const char*>(s + eq + 1), len - eq - 1), 80);
    }
    q += len + 1;
  }

  // 2. Find an environment size whose CRC matches, for both layouts: plain (CRC at p-4) and redundant (CRC at
  // p-5, flag at p-1). The data area always starts at p, so one running CRC serves both.
  struct Layout {
    uint64_t crc_pos;
    bool possible;
    uint32_t le = 0, be = 0;
    uint64_t size = 0;  // matching env size, 0 = none
    bool stored_be = false;
  };
  Layout plain{p - 4, true}, redund{p >= 5 ? p - 5 : 0, p >= 5};
  for (Layout* l : {&plain, &redund}) {
    if (!l->possible) continue;
    l->le = *img.u32le(l->crc_pos);
    l->be = *img.u32be(l->crc_pos);
  }
  uint32_t crc = 0;
  uint64_t crc_end = p;
  auto advance_to = [&](uint64_t end) {
    crc = crc32(*img.sub(crc_end, end - crc_end), crc);
    crc_end = end;
  };
  for (uint64_t size = kEnvSizeStep; size <= kEnvMaxSize; size += kEnvSizeStep) {
    const uint64_t end_r = redund.crc_pos + size, end_p = plain.crc_pos + size;
    if (end_r > img.size()) break;
    if (end_r < list_end) continue;
    if (redund.possible && end_r >= crc_end) {
      advance_to(end_r);
      if (!redund.size && (crc == redund.le || crc == redund.be)) {
        redund.size = size;
        redund.stored_be = crc != redund.le;
      }
    }
    if (end_p <= img.size() && end_p >= list_end && end_p >= crc_end) {
      advance_to(end_p);
      if (!plain.size && (crc == plain.le || crc == plain.be)) {
        plain.size = size;
        plain.stored_be = crc != plain.le;
      }
    }
    if (plain.size) break;
  }

  // One hit per environment: report it only through the signature whose layout matched (plain when none did).
  const bool use_redund = !plain.size && redund.size;
  if (use_redund != (at == 5)) return std::nullopt;
  const Layout& l = use_redund ? redund : plain;
  if (!l.size) {
    // No CRC: a well-formed list is still worth a Low hit, unless the 4 bytes before it are the tail of another
    // "name=value\0" (we are then in the middle of a variable list, e.g. U-Boot's built-in default environment).
    uint8_t b1 = img.data()[p - 1], b2 = img.data()[p - 2];
    if (b1 == 0 && b2 >= 0x20 && b2 < 0x7f) return std::nullopt;
  }

  Hit hit;
  hit.offset = img.base() + l.crc_pos;
  hit.type = "uboot-env";
  hit.nesting = Nesting::Opaque;
  const uint32_t stored = l.stored_be ? l.be : l.le;
  std::string d = use_redund ? "U-Boot redundant environment" : "U-Boot environment";
  if (l.size) {
    hit.size = l.size;
    hit.confidence = Confidence::High;
    d += ", size: " + std::to_string(l.size) + " bytes";
  } else {
    hit.size = list_end - l.crc_pos;
    hit.confidence = Confidence::Low;
    hit.diag(hit.offset, Severity::Warning,
             "stored CRC " + hex32(l.le) + " (LE) / " + hex32(l.be) +
                 " (BE) matches no environment size up to " + hex(kEnvMaxSize));
    d += ", variables end after " + std::to_string(hit.size) + " bytes";
  }
  d += ", " + std::to_string(vars) + (vars == 1 ? " variable" : " variables");
  if (use_redund) d += ", flags: " + hex(img.data()[p - 1]);
  if (l.size)
    d += ", CRC " + hex32(stored) + (l.stored_be ? " (big endian)" : "") + " ok";
  else
    d += ", CRC not verified";
  if (has_bootcmd) d += ", bootcmd: \"" + bootcmd + "\"";
  hit.description = std::move(d);
  return hit;
}

// ---------------------------------------------------------------------------------------------------------------
// Supermicro ASPEED `[img]: <base> <length> <crc32> <name>` index (FORMATS.md 4.1)

constexpr size_t kAspeedMaxRecords = 64;
constexpr uint64_t kAspeedIndexOffset = 0x01FC0000;

struct AspeedRecord {
  uint64_t at;  // index in the image of the record text
  uint64_t base, length;
  uint32_t crc;
  std::string name;
};

struct AspeedIndex {
  std::vector<AspeedRecord> records;
  uint64_t end = 0;  // index just past the text
  bool terminated = false;
};

bool parse_hex_field(ByteView v, uint64_t& q, size_t max_digits, uint64_t& out) {
  out = 0;
  size_t n = 0;
  while (n < max_digits) {
    auto c = v.u8(q);
    if (!c) break;
    int d = (*c >= '0' && *c <= '9') ? *c - '0' : (*c >= 'a' && *c <= 'f') ? *c - 'a' + 10
                                                 : (*c >= 'A' && *c <= 'F') ? *c - 'A' + 10 : -1;
    if (d < 0) break;
    out = out * 16 + static_cast<uint64_t>(d);
    ++q;
    ++n;
  }
  return n > 0 && !(v.u8(q) && std::isxdigit(*v.u8(q)));
}

bool aspeed_name_char(uint8_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_' ||
         c == '.';
}

AspeedIndex parse_aspeed_index(ByteView img, uint64_t start) {
  AspeedIndex idx;
  uint64_t q = start;
  while (idx.records.size() < kAspeedMaxRecords) {
    if (img.matches(q, "[end]")) {
      q += 5;
      idx.terminated = true;
      break;
    }
    if (!img.matches(q, "[img]: ")) break;
    AspeedRecord rec{q, 0, 0, 0, {}};
    uint64_t r = q + 7, crc = 0;
    if (!parse_hex_field(img, r, 16, rec.base) || !img.matches(r++, " ")) break;
    if (!parse_hex_field(img, r, 16, rec.length) || !img.matches(r++, " ")) break;
    if (!parse_hex_field(img, r, 8, crc) || !img.matches(r++, " ")) break;
    rec.crc = static_cast<uint32_t>(crc);
    while (rec.name.size() < 64) {
      auto c = img.u8(r);
      if (!c || !aspeed_name_char(*c)) break;
      rec.name.push_back(static_cast<char>(*c));
      ++r;
    }
    if (rec.name.empty()) break;
    idx.records.push_back(std::move(rec));
    q = r;
    // The writer puts records back to back; tolerate a line break or a space between them.
    for (int i = 0; i < 2 && img.u8(q) && (*img.u8(q) == '\n' || *img.u8(q) == '\r' || *img.u8(q) == ' '); ++i) ++q;
  }
  idx.end = idx.records.empty() ? start : q;
  return idx;
}

std::optional<Hit> validate_aspeed_index(const ValidateInput& in) {
  const ByteView img = in.image;
  AspeedIndex idx = parse_aspeed_index(img, in.start);
  if (idx.records.empty()) return std::nullopt;

  Hit hit;
  hit.offset = img.base() + in.start;
  hit.size = idx.end - in.start;
  hit.type = "aspeed-index";
  hit.nesting = Nesting::Opaque;
  size_t ok = 0, bad = 0, unchecked = 0;
  std::string list;
  for (size_t i = 0; i < idx.records.size(); ++i) {
    const AspeedRecord& rec = idx.records[i];
    std::string status;
    // base is a file offset: an index into the input the walk was given.
    auto region = img.sub(rec.base, rec.length);
    if (!region || rec.length == 0) {
      ++unchecked;
      status = "not checked";
      if (!region)
        hit.diag(img.base() + rec.at, Severity::Info,
                 "image " + std::to_string(i + 1) + " " + rec.name + " lies outside the input; CRC not checked");
    } else {
      uint32_t c = crc32(*region);
      if (c == rec.crc) {
        ++ok;
        status = "CRC ok";
      } else {
        ++bad;
        status = "CRC mismatch";
        hit.diag(img.base() + rec.at, Severity::Error,
                 "image " + std::to_string(i + 1) + " " + rec.name + ": stored CRC " + hex32(rec.crc) +
                     ", computed " + hex32(c));
      }
    }
    if (!list.empty()) list += "; ";
    list += std::to_string(i + 1) + " " + hex(rec.base) + "+" + hex(rec.length) + " " + rec.name + " (" + status + ")";
  }
  if (!idx.terminated)
    hit.diag(img.base() + idx.end, Severity::Info,
             idx.records.size() >= kAspeedMaxRecords ? "more than 64 records (cap)" : "index not ended by [end]");
  hit.confidence = (bad == 0 && unchecked == 0) ? Confidence::High : Confidence::Medium;
  hit.description = "Supermicro ASPEED image index, " + std::to_string(idx.records.size()) +
                    (idx.records.size() == 1 ? " image: " : " images: ") + list;
  if (in.start != kAspeedIndexOffset) hit.description += ", at an unusual offset (expected " + hex(kAspeedIndexOffset) + ")";
  return hit;
}

// ---------------------------------------------------------------------------------------------------------------
// `ATENs_FW` global footer (FORMATS.md 4.1 v3 and 4.2 v1/v2)

bool footer_ascii(ByteView v, uint64_t off) {
  auto s = v.str(off, 4);
  if (!s) return false;
  for (char c : *s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ' ')) return false;
  return true;
}

// First 4 characters of the unpadded lowercase hex, as the ASPEED footer stores them.
std::string hex_prefix4(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  std::string s(buf);
  s.resize(std::min<size_t>(s.size(), 4));
  while (s.size() < 4) s.insert(s.begin(), ' ');  // "%4s" right-aligns short strings
  return s;
}

std::optional<Hit> validate_aten_footer(const ValidateInput& in) {
  const ByteView v = in.image.tail(in.start);
  if (!v.matches(0, "ATENs_FW")) return std::nullopt;
  auto major = v.u8(8), minor = v.u8(9);
  if (!major || !minor || !v.contains(0, 14)) return std::nullopt;

  Hit hit;
  hit.offset = v.base();
  hit.type = "aten-footer";
  hit.nesting = Nesting::Opaque;
  char ver[32];
  std::snprintf(ver, sizeof ver, "%u.%02u", *major, *minor);
  std::string d = "Supermicro ATEN firmware footer, version " + std::string(ver);

  if (v.u8(18) == 0x71 && v.u8(27) == 0x17) {
    // v3 (ASPEED): ASCII prefixes of image 2 (root_fs) and image 4 (web_fs) CRC and length.
    hit.size = 28;
    hit.confidence = Confidence::Medium;
    if (!(footer_ascii(v, 10) && footer_ascii(v, 14) && footer_ascii(v, 19) && footer_ascii(v, 23))) {
      hit.confidence = Confidence::Low;
      hit.diag(v.base() + 10, Severity::Warning, "v3 footer fields are not lowercase hex text");
    }
    std::string rc = printable(*v.str(10, 4), 4), rl = printable(*v.str(14, 4), 4), wc = printable(*v.str(19, 4), 4),
                wl = printable(*v.str(23, 4), 4);
    d += " (v3), rootfs CRC prefix " + rc + ", rootfs length prefix " + rl + ", webfs CRC prefix " + wc +
         ", webfs length prefix " + wl;
    // Cross-check against the `[img]:` index where ASPEED images keep it.
    const ByteView img = in.image;
    if (img.matches(kAspeedIndexOffset, "[img]: ")) {
      AspeedIndex idx = parse_aspeed_index(img, kAspeedIndexOffset);
      if (idx.records.size() >= 4) {
        const AspeedRecord &r2 = idx.records[1], &r4 = idx.records[3];
        bool match = hex_prefix4(r2.crc) == rc && hex_prefix4(r2.length) == rl && hex_prefix4(r4.crc) == wc &&
                     hex_prefix4(r4.length) == wl;
        if (match) {
          hit.confidence = Confidence::High;
          d += ", matches the [img] index";
        } else {
          hit.diag(v.base() + 10, Severity::Warning,
                   "footer fields do not match the [img] index (expected rootfs " + hex_prefix4(r2.crc) + "/" +
                       hex_prefix4(r2.length) + ", webfs " + hex_prefix4(r4.crc) + "/" + hex_prefix4(r4.length) + ")");
        }
      }
    }
  } else if (v.u8(10) == 0x71 && v.u8(15) == 0x17) {
    // v2 (Winbond, firmware >= 3.00): CRC-32 over the concatenated image CRCs.
    hit.size = 16;
    hit.confidence = Confidence::Medium;
    d += " (v2), image CRC checksum " + hex32(*v.u32le(11));
  } else {
    // v1 has no tag bytes: the layout is a guess.
    hit.size = 14;
    hit.confidence = Confidence::Low;
    d += " (v1 or unknown layout), checksum " + hex32(*v.u32le(10));
  }
  hit.description = std::move(d);
  return hit;
}

// ---------------------------------------------------------------------------------------------------------------
// Winbond WPCM450 image footer (FORMATS.md 4.2): 52-byte u32 LE record, signature 9F FF FF A0 at +40.

// FirmwareImage.computeChecksum: start at 0xFFFFFFFF, subtract each byte shifted by its position mod 4; on
// underflow wrap to 32 bits and subtract one more.
uint32_t winbond_sum(ByteView data) {
  int64_t s = 0xFFFFFFFF;
  for (size_t i = 0; i < data.size(); ++i) {
    s -= static_cast<int64_t>(data.data()[i]) << (8 * (i % 4));
    if (s < 0) s = (s & 0xFFFFFFFF) - 1;
  }
  return static_cast<uint32_t>(s);
}

constexpr uint64_t kWinbondMaxImage = 64ull << 20;  // no WPCM450 flash is larger; bounds the byte-wise sum

std::optional<Hit> validate_winbond_footer(const ValidateInput& in) {
  const ByteView v = in.image.tail(in.start);
  auto rec = v.sub(0, 52);
  if (!rec || rec->u32le(40) != 0xA0FFFF9Fu) return std::nullopt;
  const uint32_t num = *rec->u32le(0), base_raw = *rec->u32le(4), length = *rec->u32le(8), load = *rec->u32le(12),
                 exec = *rec->u32le(16), img_sum = *rec->u32le(36), type = *rec->u32le(44),
                 foot_sum = *rec->u32le(48);
  if (num > 255 || type > 0xFF) return std::nullopt;
  // Name: printable characters, NUL padded.
  std::string name = rec->cstring(20, 16);
  for (char c : name)
    if (c < 0x20 || c > 0x7e) return std::nullopt;
  for (size_t i = 20 + name.size(); i < 36; ++i)
    if (rec->data()[i] != 0) return std::nullopt;

  Hit hit;
  hit.offset = v.base();
  hit.size = 52;
  hit.type = "winbond-footer";
  hit.nesting = Nesting::Opaque;
  const uint32_t computed = winbond_sum(*rec->sub(0, 48));
  const bool footer_ok = computed == foot_sum;
  if (!footer_ok)
    hit.diag(v.base() + 48, Severity::Error,
             "footer checksum: stored " + hex32(foot_sum) + ", computed " + hex32(computed));
  const uint64_t base = base_raw > 0x40000000u ? base_raw - 0x40000000u : base_raw;
  std::string img_status = "image not checked";
  bool img_bad = false;
  if (auto region = in.image.sub(base, length); region && length > 0 && length <= kWinbondMaxImage && footer_ok) {
    uint32_t c = winbond_sum(*region);
    if (c == img_sum) {
      img_status = "image checksum ok";
    } else {
      img_bad = true;
      img_status = "image checksum MISMATCH";
      hit.diag(v.base() + 36, Severity::Error,
               "image checksum: stored " + hex32(img_sum) + ", computed " + hex32(c));
    }
  }
  hit.confidence = !footer_ok ? Confidence::Low : img_bad ? Confidence::Medium : Confidence::High;

  std::string flags;
  const char* names[] = {"active", "copy2ram", "exec", "file", "compressed"};
  for (int i = 0; i < 5; ++i)
    if (type & (1u << i)) flags += std::string(flags.empty() ? "" : "|") + names[i];
  hit.description = "Winbond WPCM450 image footer, image " + std::to_string(num) + " \"" + name + "\", base " +
                    hex(base) + ", length " + std::to_string(length) + ", load " + hex(load) + ", exec " + hex(exec) +
                    ", flags " + (flags.empty() ? hex(type) : flags) + ", footer checksum " +
                    (footer_ok ? "ok" : "MISMATCH") + ", " + img_status;
  return hit;
}

}  // namespace

namespace aspeed {

std::vector<Record> index_records(ByteView img, uint64_t start) {
  std::vector<Record> out;
  for (const auto& r : parse_aspeed_index(img, start).records) out.push_back(Record{r.base, r.length, r.crc, r.name});
  return out;
}

}  // namespace aspeed

namespace fit {

Result<std::vector<Image>> list_images(ByteView all) {
  auto header = read_fdt_header(all);
  if (!header) return make_error(all.base(), "fit: not a flattened device tree");
  const ByteView blob = all.clamp(0, header->totalsize);
  FdtTree tree = walk_fdt_struct(blob.clamp(header->off_struct, header->size_struct),
                                 blob.clamp(header->off_strings, header->size_strings));
  if (!tree.ok) return make_error(tree.error_at, "fit: structure block: " + tree.error);
  const uint64_t ext_base = (uint64_t{header->totalsize} + 3) & ~uint64_t{3};
  std::vector<Image> out;
  for (const FitImage& im : tree.images) {
    Image o{im.unit, im.description, im.type, im.arch, im.os, im.compression, std::nullopt, 0};
    std::optional<uint64_t> rel;
    std::string where;
    o.data = fit_image_data(all, ext_base, im, rel, where);
    o.declared_size = im.data ? im.data->size() : im.data_size.value_or(0);
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace fit

namespace {
}  // namespace

void register_firmware_validators(ValidatorRegistry& registry) {
  registry.add("fdt", "flattened device tree / U-Boot FIT image (header, full structure walk, FIT hashes)",
               validate_fdt);
  registry.add("crc32", "CRC-32 lookup table (polynomial 0xEDB88320), all 256 entries", validate_crc32_table);
  registry.add("uboot-env", "U-Boot environment (variable list, CRC-32 over common environment sizes)",
               validate_uboot_env);
  registry.add("aspeed-index", "Supermicro ASPEED [img]: image index with per-image CRC-32", validate_aspeed_index);
  registry.add("aten-footer", "Supermicro ATEN ATENs_FW firmware footer (v1/v2/v3)", validate_aten_footer);
  registry.add("winbond-footer", "Supermicro Winbond WPCM450 image footer (footer and image checksums)",
               validate_winbond_footer);
}

}  // namespace fwcert
