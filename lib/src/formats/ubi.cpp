// UBI: the walk's validator (erase-counter and volume identifier headers, PEB walk for the image size) and the reader
// that rebuilds every volume from its LEBs. Both run the same PEB scan (scan_image), so they agree on the geometry,
// on which PEBs belong to the image and on which are damaged.
//
// Structures relied on (Linux drivers/mtd/ubi/ubi-media.h): struct ubi_ec_hdr (magic "UBI#", version, ec,
// vid_hdr_offset, data_offset, image_seq, hdr_crc), struct ubi_vid_hdr (magic "UBI!", vol_type, copy_flag, compat,
// vol_id, lnum, data_size, used_ebs, data_pad, data_crc, sqnum, hdr_crc), struct ubi_vtbl_record (reserved_pebs,
// alignment, data_pad, vol_type, upd_marker, name_len, name, flags, crc), UBI_LAYOUT_VOLUME_ID, UBI_CRC32_INIT.
// Which PEB of two holding one LEB is current: drivers/mtd/ubi/attach.c ubi_compare_lebs() (higher sqnum; a copy made
// by wear-levelling, copy_flag set, counts only when its data CRC holds).
#include "fwcert/formats/ubi.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fwcert/core/big_block.hpp"
#include "fwcert/core/checksum.hpp"
#include "fwcert/scan/validator.hpp"

namespace fwcert::ubi {

// UBI: crc32_le(0xFFFFFFFF, p, len) (UBI_CRC32_INIT) = ~zlib_crc32(0, p, len).
uint32_t crc(ByteView v) { return ~crc32(v, 0); }

std::optional<EcHeader> parse_ec(ByteView v, uint64_t pos) {
  if (!v.contains(pos, kHeaderSize) || !v.matches(pos, "UBI#") || *v.u8(pos + 4) != 1) return std::nullopt;
  EcHeader e;
  e.ec = *v.u64be(pos + 8);
  e.vid_hdr_offset = *v.u32be(pos + 16);
  e.data_offset = *v.u32be(pos + 20);
  e.image_seq = *v.u32be(pos + 24);
  // UBI_MAX_ERASECOUNTER; the VID header follows the EC header and precedes the data.
  if (e.ec > 0x7FFFFFFF || e.vid_hdr_offset < kHeaderSize || e.data_offset < e.vid_hdr_offset + kHeaderSize ||
      e.data_offset >= kMaxPeb)
    return std::nullopt;
  e.stored_crc = *v.u32be(pos + kCrcLen);
  e.computed_crc = crc(*v.sub(pos, kCrcLen));
  e.crc_ok = e.stored_crc == e.computed_crc;
  return e;
}

std::optional<VidHeader> parse_vid(ByteView v, uint64_t pos) {
  if (!v.contains(pos, kHeaderSize) || !v.matches(pos, "UBI!") || *v.u8(pos + 4) != 1) return std::nullopt;
  VidHeader h;
  h.vol_type = *v.u8(pos + 5);
  h.copy_flag = *v.u8(pos + 6);
  h.compat = *v.u8(pos + 7);
  h.vol_id = *v.u32be(pos + 8);
  h.lnum = *v.u32be(pos + 12);
  h.data_size = *v.u32be(pos + 20);
  h.used_ebs = *v.u32be(pos + 24);
  h.data_pad = *v.u32be(pos + 28);
  h.data_crc = *v.u32be(pos + 32);
  h.sqnum = *v.u64be(pos + 40);
  if ((h.vol_type != kDynamic && h.vol_type != kStatic) || h.copy_flag > 1) return std::nullopt;
  if (h.compat != 0 && h.compat != 1 && h.compat != 2 && h.compat != 4 && h.compat != 5) return std::nullopt;
  h.stored_crc = *v.u32be(pos + kCrcLen);
  h.computed_crc = crc(*v.sub(pos, kCrcLen));
  h.crc_ok = h.stored_crc == h.computed_crc;
  return h;
}

std::vector<VtblRecord> parse_vtbl(ByteView leb, uint64_t* bad) {
  std::vector<VtblRecord> out;
  for (uint64_t i = 0; i < kMaxVolumes; ++i) {
    auto rec = leb.sub(i * kVtblRecordSize, kVtblRecordSize);
    if (!rec) break;
    const uint32_t reserved = *rec->u32be(0);
    const uint16_t name_len = *rec->u16be(14);
    const bool crc_ok = crc(*rec->sub(0, 168)) == *rec->u32be(168);
    if (!crc_ok) {
      // An unused record is all zeros with its CRC; erased flash (0xFF) is no record either.
      if (bad && *rec->u32be(0) != 0xFFFFFFFFu) ++*bad;
      continue;
    }
    if (reserved == 0 || name_len == 0 || name_len > 127) continue;
    VtblRecord r;
    r.vol_id = static_cast<uint32_t>(i);
    r.reserved_pebs = reserved;
    r.alignment = *rec->u32be(4);
    r.data_pad = *rec->u32be(8);
    r.vol_type = *rec->u8(12);
    r.upd_marker = *rec->u8(13);
    r.flags = *rec->u8(144);
    r.name = std::string(*rec->str(16, name_len));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace fwcert::ubi

namespace fwcert {
namespace {

using namespace ubi;

// Erased PEBs (0xFF) between PEBs of the image are part of it when another PEB of the image follows within this many.
constexpr uint64_t kMaxErasedRun = 64;

bool erased(ByteView v, uint64_t pos, uint64_t len) {
  ByteView w = v.clamp(pos, len);
  return std::all_of(w.data(), w.data() + w.size(), [](uint8_t b) { return b == 0xFF; });
}

// One PEB of the image as the scan saw it.
struct Peb {
  uint64_t pos = 0;  // offset of the PEB in the view
  enum class Ec : uint8_t { Ok, Damaged, Erased } ec = Ec::Ok;
  std::optional<VidHeader> vid;  // a VID header with a good CRC
  bool vid_damaged = false;      // something that is neither a good VID header nor erased flash
};

// The PEBs of the image that starts at v[0] with the EC header `first` (whose CRC holds).
struct ImageScan {
  EcHeader first;
  uint64_t peb = 0;  // PEB size; 0 when only one PEB was found
  std::vector<Peb> pebs;
  uint64_t damaged_ec = 0, damaged_vid = 0;
  bool capped = false;
  uint64_t size = 0;  // bytes covered (the last PEB may be cut by the end of the view)
  bool truncated = false;
};

ImageScan scan_image(ByteView v, const EcHeader& first) {
  ImageScan s;
  s.first = first;
  auto same_image = [&](const std::optional<EcHeader>& e) {
    return e && e->crc_ok && e->vid_hdr_offset == first.vid_hdr_offset && e->data_offset == first.data_offset &&
           e->image_seq == first.image_seq;
  };
  // PEB size: the smallest power of two above data_offset where the next EC header of this image sits.
  for (uint64_t p = 1024; p <= kMaxPeb && v.contains(p, kHeaderSize); p *= 2) {
    if (p <= first.data_offset) continue;
    if (same_image(parse_ec(v, p))) {
      s.peb = p;
      break;
    }
  }
  auto add = [&](uint64_t pos, Peb::Ec ec) {
    Peb p;
    p.pos = pos;
    p.ec = ec;
    if (ec == Peb::Ec::Damaged) ++s.damaged_ec;
    auto h = parse_vid(v, pos + first.vid_hdr_offset);
    if (h && h->crc_ok)
      p.vid = h;
    else if (v.contains(pos + first.vid_hdr_offset, kHeaderSize) && !erased(v, pos + first.vid_hdr_offset, kHeaderSize)) {
      p.vid_damaged = true;
      ++s.damaged_vid;
    }
    s.pebs.push_back(p);
  };
  add(0, Peb::Ec::Ok);
  if (s.peb) {
    uint64_t i = 1;
    while (i < kMaxPebs && v.contains(i * s.peb, kHeaderSize)) {
      const uint64_t pos = i * s.peb;
      auto ec = parse_ec(v, pos);
      if (same_image(ec)) {
        add(pos, Peb::Ec::Ok);
      } else if (v.matches(pos, "UBI#") && (!ec || !ec->crc_ok)) {
        add(pos, Peb::Ec::Damaged);  // an EC header hit by bit flips: the PEB is still read with the image's geometry
      } else if (erased(v, pos, kHeaderSize)) {
        // A run of erased PEBs belongs to the image only when a PEB of the image follows it.
        uint64_t k = 1;
        while (k <= kMaxErasedRun && v.contains((i + k) * s.peb, kHeaderSize) && erased(v, (i + k) * s.peb, kHeaderSize))
          ++k;
        if (k > kMaxErasedRun || !same_image(parse_ec(v, (i + k) * s.peb))) break;
        for (uint64_t j = 0; j < k && i + j < kMaxPebs; ++j) add((i + j) * s.peb, Peb::Ec::Erased);
        i += k;
        continue;
      } else {
        break;
      }
      ++i;
    }
    if (i >= kMaxPebs) s.capped = true;
    s.size = s.pebs.size() * s.peb;
    if (!v.contains(0, s.size)) {
      s.truncated = true;
      s.size = v.size();
    }
  } else {
    s.size = std::min<uint64_t>(v.size(), std::max<uint64_t>(first.data_offset, kHeaderSize));
  }
  return s;
}

std::optional<Hit> validate_ubi_vid_only(const ValidateInput& in) {
  const ByteView v = in.image.tail(in.start);
  const uint64_t abs = in.image.base() + in.start;
  auto h = parse_vid(v, 0);
  if (!h) return std::nullopt;
  // A VID header behind a matching EC header is part of the PEB the "UBI#" signature reports.
  for (uint64_t k = kHeaderSize; k <= kMaxPeb && k <= in.start; k *= 2) {
    auto ec = parse_ec(in.image, in.start - k);
    if (ec && ec->vid_hdr_offset == k) return std::nullopt;
  }
  Hit hit;
  hit.offset = abs;
  hit.type = "ubi";
  hit.size = kHeaderSize;
  hit.nesting = Nesting::Opaque;
  hit.confidence = h->crc_ok ? Confidence::Medium : Confidence::Low;
  if (!h->crc_ok)
    hit.diag(abs + kCrcLen, Severity::Warning,
             "VID header CRC mismatch: stored " + hex(h->stored_crc) + ", computed " + hex(h->computed_crc));
  hit.description = "UBI volume identifier header (no erase-counter header before it), volume id " +
                    std::to_string(h->vol_id) + ", LEB " + std::to_string(h->lnum) + ", " +
                    (h->vol_type == kDynamic ? "dynamic" : "static") + ", sequence number " + std::to_string(h->sqnum);
  return hit;
}

std::optional<Hit> validate_ubi(const ValidateInput& in) {
  const ByteView v = in.image.tail(in.start);
  const uint64_t abs = in.image.base() + in.start;
  if (v.matches(0, "UBI!")) return validate_ubi_vid_only(in);
  auto first = parse_ec(v, 0);
  if (!first) return std::nullopt;

  Hit hit;
  hit.offset = abs;
  hit.type = "ubi";
  hit.nesting = Nesting::Opaque;
  std::string d = "UBI image, version 1";
  if (!first->crc_ok) {
    hit.diag(abs + kCrcLen, Severity::Warning,
             "EC header CRC mismatch: stored " + hex(first->stored_crc) + ", computed " + hex(first->computed_crc));
    hit.confidence = Confidence::Low;
    hit.description = d + ", VID header offset: " + std::to_string(first->vid_hdr_offset) +
                      ", data offset: " + std::to_string(first->data_offset);
    return hit;
  }

  const ImageScan s = scan_image(v, *first);
  if (s.capped) hit.diag(abs, Severity::Info, "PEB walk stopped after " + std::to_string(kMaxPebs) + " PEBs (cap)");

  // Volumes: distinct volume ids of the VID headers, names from the layout volume.
  std::set<uint32_t> volumes;
  std::vector<std::string> names;
  bool have_names = false;
  for (const Peb& p : s.pebs) {
    if (!p.vid) continue;
    if (p.vid->vol_id == kLayoutVolume) {
      if (!have_names && s.peb) {
        for (auto& r : parse_vtbl(v.clamp(p.pos + first->data_offset, s.peb - first->data_offset)))
          names.push_back(printable(r.name, 127));
        have_names = true;
      }
    } else {
      volumes.insert(p.vid->vol_id);
    }
  }

  hit.confidence = Confidence::High;
  if (s.damaged_ec) {
    hit.diag(abs, Severity::Warning, std::to_string(s.damaged_ec) + " PEB(s) with a damaged erase-counter header");
    hit.confidence = Confidence::Medium;
  }
  if (s.damaged_vid) {
    hit.diag(abs, Severity::Warning,
             std::to_string(s.damaged_vid) + " PEB(s) with an invalid volume identifier header");
    hit.confidence = Confidence::Medium;
  }
  hit.size = s.size;
  if (s.peb) {
    if (s.truncated) {
      hit.diag(abs + v.size(), Severity::Warning, "truncated: the last PEB runs past the end of the input");
      hit.confidence = Confidence::Medium;
    }
    d += ", " + std::to_string(s.pebs.size()) + " PEBs of " + std::to_string(s.peb) + " bytes";
  } else {
    d += ", single PEB";
    hit.size = 0;
  }
  d += ", VID header offset: " + std::to_string(first->vid_hdr_offset) +
       ", data offset: " + std::to_string(first->data_offset) + ", image sequence: " + hex(first->image_seq);
  d += ", " + std::to_string(volumes.size()) + (volumes.size() == 1 ? " volume" : " volumes");
  if (!names.empty()) {
    d += " (";
    for (size_t i = 0; i < names.size() && i < 8; ++i) d += (i ? ", \"" : "\"") + names[i] + "\"";
    if (names.size() > 8) d += ", ...";
    d += ")";
  }
  hit.description = std::move(d);
  return hit;
}

// ------------------------------------------------------------------------------------------------------------------
// Reader
// ------------------------------------------------------------------------------------------------------------------

// UBIFS superblock node at the start of a volume: magic 0x06101831 (LE) and node type 6 (fs/ubifs/ubifs-media.h).
bool starts_with_ubifs(ByteView v) { return v.u32le(0) == 0x06101831u && v.u8(20) == 6; }

class UbiReader {
 public:
  UbiReader(ByteView image, Budget& budget, const ContainerReadOptions& options)
      : v_(image), budget_(budget), options_(options) {}

  ExtractResult run() {
    auto first = parse_ec(v_, 0);
    if (!first) {
      diag(0, Severity::Error, "ubi: no erase-counter header at the start");
      return std::move(out_);
    }
    if (!first->crc_ok) diag(kCrcLen, Severity::Warning, "ubi: EC header CRC mismatch in PEB 0, read anyway");
    scan_ = scan_image(v_, *first);
    if (!scan_.peb) {
      diag(0, Severity::Error, "ubi: PEB size not found (no second erase-counter header of this image)");
      return std::move(out_);
    }
    if (scan_.truncated) diag(v_.size(), Severity::Warning, "ubi: truncated: the last PEB runs past the end of the input");
    if (scan_.damaged_ec)
      diag(0, Severity::Warning, "ubi: " + std::to_string(scan_.damaged_ec) + " PEB(s) with a damaged erase-counter header");
    if (scan_.damaged_vid)
      diag(0, Severity::Warning,
           "ubi: " + std::to_string(scan_.damaged_vid) + " PEB(s) with a damaged volume identifier header (skipped)");
    leb_size_ = scan_.peb - first->data_offset;
    pick_lebs();
    read_volume_table();
    std::set<uint32_t> ids;
    for (const auto& [key, idx] : current_)
      if (key.first != kLayoutVolume) ids.insert(key.first);
    for (const auto& [id, r] : vtbl_) ids.insert(id);
    for (uint32_t id : ids) {
      if (out_.entries.size() >= kMaxVolumes) {
        diag(0, Severity::Warning, "ubi: more than " + std::to_string(kMaxVolumes) + " volumes; the rest skipped");
        break;
      }
      if (!read_volume(id)) break;
    }
    return std::move(out_);
  }

 private:
  void diag(uint64_t at, Severity s, std::string m) { out_.diagnostics.push_back({v_.base() + at, s, std::move(m)}); }

  ByteView leb_data(const Peb& p) const { return v_.clamp(p.pos + scan_.first.data_offset, leb_size_); }

  // The current PEB of every (volume, LEB), as attach.c decides it.
  void pick_lebs() {
    for (size_t i = 0; i < scan_.pebs.size(); ++i) {
      const Peb& p = scan_.pebs[i];
      if (!p.vid) continue;
      const auto key = std::make_pair(p.vid->vol_id, p.vid->lnum);
      auto it = current_.find(key);
      if (it == current_.end()) {
        current_.emplace(key, i);
        continue;
      }
      const Peb& q = scan_.pebs[it->second];
      const Peb& newer = p.vid->sqnum >= q.vid->sqnum ? p : q;
      const Peb& older = &newer == &p ? q : p;
      // A copy (copy_flag) is current only when its data made it whole: its data_crc over data_size must hold.
      bool newer_ok = true;
      if (newer.vid->copy_flag) {
        auto data = leb_data(newer).sub(0, newer.vid->data_size);
        newer_ok = data && crc(*data) == newer.vid->data_crc;
      }
      it->second = static_cast<size_t>(((newer_ok ? &newer : &older) - scan_.pebs.data()));
    }
  }

  void read_volume_table() {
    for (uint32_t lnum = 0; lnum < 2; ++lnum) {
      auto it = current_.find({kLayoutVolume, lnum});
      if (it == current_.end()) continue;
      uint64_t bad = 0;
      auto records = parse_vtbl(leb_data(scan_.pebs[it->second]), &bad);
      if (bad)
        diag(scan_.pebs[it->second].pos + scan_.first.data_offset, Severity::Warning,
             "ubi: volume table copy " + std::to_string(lnum) + ": " + std::to_string(bad) +
                 " record(s) with a bad CRC");
      if (records.empty() && bad) continue;  // try the other copy
      for (auto& r : records) vtbl_.emplace(r.vol_id, std::move(r));
      return;
    }
    diag(0, Severity::Warning, "ubi: no readable volume table (layout volume); volumes named by id");
  }

  std::string volume_name(uint32_t id) {
    std::string name;
    auto it = vtbl_.find(id);
    if (it != vtbl_.end()) {
      for (char c : it->second.name) name.push_back(c >= 0x20 && c < 0x7f && c != '/' ? c : '_');
    }
    if (name.empty() || name == "." || name == "..") name = "vol" + std::to_string(id);
    if (!used_names_.insert(name).second) name += "#" + std::to_string(id);
    used_names_.insert(name);
    return name;
  }

  bool read_volume(uint32_t id) {
    if (!budget_.take_entry()) {
      out_.limited = true;
      diag(0, Severity::Warning,
           "ubi: entry limit reached (" + std::to_string(budget_.limits().max_entries) + " entries)");
      return false;
    }
    Entry e;
    e.path = volume_name(id);
    e.kind = EntryKind::File;
    e.mode = 0100444;
    auto rec = vtbl_.find(id);
    const uint32_t data_pad = rec != vtbl_.end() ? rec->second.data_pad : 0;
    const uint64_t leb = data_pad < leb_size_ ? leb_size_ - data_pad : leb_size_;
    // The LEBs of this volume and the type their headers give.
    std::vector<std::pair<uint32_t, const Peb*>> lebs;
    for (auto it = current_.lower_bound({id, 0}); it != current_.end() && it->first.first == id; ++it)
      lebs.emplace_back(it->first.second, &scan_.pebs[it->second]);
    uint8_t type = rec != vtbl_.end() ? rec->second.vol_type : 0;
    if (!lebs.empty()) type = lebs.front().second->vid->vol_type;
    if (rec != vtbl_.end() && rec->second.upd_marker)
      e.diagnostics.push_back({v_.base(), Severity::Warning,
                               "ubi: volume " + e.path + " has its update marker set (an update was interrupted)"});
    const uint64_t at = lebs.empty() ? v_.base() : v_.base() + lebs.front().second->pos;

    // Bytes of the volume: static volumes end at used_ebs LEBs with data_size in each; dynamic ones at the last mapped
    // LEB, each LEB whole.
    uint64_t count = lebs.empty() ? 0 : uint64_t{lebs.back().first} + 1;
    if (type == kStatic && !lebs.empty()) {
      const uint32_t used = lebs.front().second->vid->used_ebs;
      if (used < count)
        e.diagnostics.push_back({at, Severity::Warning,
                                 "ubi: static volume " + e.path + ": LEB numbers past used_ebs " + std::to_string(used) +
                                     " ignored"});
      count = std::min<uint64_t>(count, used);
      if (used > count) {
        e.complete = false;
        e.diagnostics.push_back({at, Severity::Warning,
                                 "ubi: static volume " + e.path + ": " + std::to_string(used - count) +
                                     " LEB(s) at the end missing (used_ebs " + std::to_string(used) + ")"});
      }
    }
    const uint64_t want = count * leb;
    const uint64_t allowance = std::min<uint64_t>(budget_.allowance(want), budget_.limits().max_file_bytes);
    uint64_t cap = want;
    if (want > allowance) {
      cap = allowance / leb * leb;
      out_.limited = true;
      e.complete = false;
      e.diagnostics.push_back({at, Severity::Warning,
                               "ubi: volume " + e.path + " cut at " + std::to_string(cap) + " of " +
                                   std::to_string(want) + " bytes (file or total limit)"});
    }
    // The volume goes into one zero-filled mapping offered as huge pages (core/big_block): a 64 MiB volume taken
    // 4 KiB page fault by page fault cost as much as the copy itself.
    std::shared_ptr<BigBlock> block = cap ? BigBlock::allocate(static_cast<size_t>(cap)) : nullptr;
    if (cap && !block) {
      out_.failed = true;
      diag(0, Severity::Error, "ubi: out of memory for volume " + e.path);
      return false;
    }
    uint8_t* const base = block ? block->data() : nullptr;
    uint64_t len = 0;
    auto put = [&](const uint8_t* p, uint64_t n) {
      if (n) std::memcpy(base + len, p, n);
      len += n;
    };
    auto fill = [&](uint8_t byte, uint64_t n) {
      if (n && byte) std::memset(base + len, byte, n);  // the block is zero-filled already
      len += n;
    };
    uint64_t missing = 0, bad_crc = 0, short_data = 0;
    size_t li = 0;
    for (uint64_t lnum = 0; lnum < count && len + leb <= cap; ++lnum) {
      while (li < lebs.size() && lebs[li].first < lnum) ++li;
      const Peb* p = li < lebs.size() && lebs[li].first == lnum ? lebs[li].second : nullptr;
      if (!p) {
        ++missing;
        if (type == kStatic) e.complete = false;
        fill(0xFF, leb);  // an unmapped LEB reads as erased flash
        continue;
      }
      ByteView data = leb_data(*p);
      if (type == kStatic) {
        const uint64_t n = std::min<uint64_t>(p->vid->data_size, leb);
        if (data.size() < n) {
          ++short_data;
          e.complete = false;
        } else if (crc(*data.sub(0, n)) != p->vid->data_crc) {
          ++bad_crc;
          e.complete = false;
        }
        data = data.clamp(0, n);
        put(data.data(), data.size());
      } else {
        data = data.clamp(0, leb);
        if (data.size() < leb) {
          ++short_data;
          e.complete = false;
        }
        put(data.data(), data.size());
        fill(0xFF, leb - data.size());
      }
    }
    if (missing)
      e.diagnostics.push_back({at, Severity::Warning,
                               "ubi: volume " + e.path + ": " + std::to_string(missing) +
                                   " unmapped LEB(s) read as erased flash"});
    if (bad_crc)
      e.diagnostics.push_back({at, Severity::Warning,
                               "ubi: static volume " + e.path + ": data CRC mismatch in " + std::to_string(bad_crc) +
                                   " LEB(s)"});
    if (short_data)
      e.diagnostics.push_back({at, Severity::Warning,
                               "ubi: volume " + e.path + ": " + std::to_string(short_data) +
                                   " LEB(s) cut by the end of the input"});
    // Dynamic volumes other than UBIFS: the image written into them ends where the erased tail of the last LEB starts.
    if (type != kStatic && !starts_with_ubifs(ByteView(base, len))) {
      while (len > 0 && base[len - 1] == 0xFF) --len;
    }
    if (!budget_.take_bytes(len)) {
      out_.limited = true;
      diag(0, Severity::Warning, "ubi: total output limit reached at volume " + e.path);
      return false;
    }
    e.size = len;
    const ByteView content(base, static_cast<size_t>(len));
    if (options_.visit && len && !options_.visit(out_.entries.size(), e, content)) {
      e.unkept_size = len;
    } else if (len) {
      e.view = content;
      e.keep = std::move(block);
    } else {
      e.data = std::make_shared<const Buffer>();
    }
    out_.entries.push_back(std::move(e));
    return true;
  }

  ByteView v_;
  Budget& budget_;
  const ContainerReadOptions& options_;
  ExtractResult out_;
  ImageScan scan_;
  uint64_t leb_size_ = 0;
  std::map<std::pair<uint32_t, uint32_t>, size_t> current_;  // (vol_id, lnum) -> index in scan_.pebs
  std::map<uint32_t, VtblRecord> vtbl_;
  std::set<std::string> used_names_;
};

}  // namespace

ExtractResult read_ubi(ByteView image, Budget& budget, const ContainerReadOptions& options) {
  try {
    return UbiReader(image, budget, options).run();
  } catch (const std::exception& ex) {  // allocation failure: report, never propagate
    ExtractResult r;
    r.failed = true;
    r.diagnostics.push_back({image.base(), Severity::Error, std::string("ubi: reader stopped: ") + ex.what()});
    return r;
  }
}

void register_ubi_validators(ValidatorRegistry& registry) {
  registry.add("ubi", "UBI erase-counter/volume headers (CRC), PEB walk for the image size", validate_ubi);
}

}  // namespace fwcert
