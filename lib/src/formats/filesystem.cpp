// Filesystem-family validators: UBI and ELF (SquashFS: formats/squashfs.cpp, JFFS2: formats/jffs2.cpp).
//
// References: drivers/mtd/ubi/ubi-media.h, the System V ABI (ELF).
#include <algorithm>
#include <array>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "fwcert/core/checksum.hpp"
#include "fwcert/formats/jffs2.hpp"
#include "fwcert/scan/validator.hpp"

namespace fwcert {
namespace {

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// UBI uses the kernel's crc32_le(0xFFFFFFFF, p, len) (UBI_CRC32_INIT), which has no post-inversion: with zlib's
// crc32(c, p, len) = ~crc32_le(~c, p, len) that is ~zlib_crc32(0, p, len).
uint32_t ubi_crc(ByteView v) { return ~crc32(v, 0); }

// ------------------------------------------------------------------------------------------------------------------
// UBI
// ------------------------------------------------------------------------------------------------------------------

constexpr uint64_t kUbiHeaderSize = 64;         // both ubi_ec_hdr and ubi_vid_hdr
constexpr uint64_t kUbiCrcLen = 60;             // hdr_crc covers everything before it
constexpr uint32_t kUbiLayoutVolume = 0x7FFFEFFF;  // UBI_LAYOUT_VOLUME_ID: holds the volume table
constexpr uint64_t kUbiMaxPebs = 1u << 20;
constexpr uint64_t kUbiMaxPeb = 16u << 20;

struct UbiEc {
  uint64_t ec = 0;
  uint32_t vid_hdr_offset = 0, data_offset = 0, image_seq = 0;
  bool crc_ok = false;
  uint32_t stored_crc = 0, computed_crc = 0;
};

// struct ubi_ec_hdr: magic "UBI#", version, 3 pad, be64 ec, be32 vid_hdr_offset, be32 data_offset,
// be32 image_seq, 32 pad, be32 hdr_crc. Everything is big-endian.
std::optional<UbiEc> parse_ubi_ec(ByteView v, uint64_t pos) {
  if (!v.contains(pos, kUbiHeaderSize) || !v.matches(pos, "UBI#") || *v.u8(pos + 4) != 1) return std::nullopt;
  UbiEc e;
  e.ec = *v.u64be(pos + 8);
  e.vid_hdr_offset = *v.u32be(pos + 16);
  e.data_offset = *v.u32be(pos + 20);
  e.image_seq = *v.u32be(pos + 24);
  // UBI_MAX_ERASECOUNTER; the VID header follows the EC header and precedes the data.
  if (e.ec > 0x7FFFFFFF || e.vid_hdr_offset < kUbiHeaderSize || e.data_offset < e.vid_hdr_offset + kUbiHeaderSize ||
      e.data_offset >= kUbiMaxPeb)
    return std::nullopt;
  e.stored_crc = *v.u32be(pos + kUbiCrcLen);
  e.computed_crc = ubi_crc(*v.sub(pos, kUbiCrcLen));
  e.crc_ok = e.stored_crc == e.computed_crc;
  return e;
}

struct UbiVid {
  uint8_t vol_type = 0, compat = 0;
  uint32_t vol_id = 0, lnum = 0;
  uint64_t sqnum = 0;
  bool crc_ok = false;
  uint32_t stored_crc = 0, computed_crc = 0;
};

// struct ubi_vid_hdr: magic "UBI!", version, vol_type (1 dynamic, 2 static), copy_flag, compat, be32 vol_id,
// be32 lnum, 4 pad, be32 data_size, be32 used_ebs, be32 data_pad, be32 data_crc, 4 pad, be64 sqnum, 12 pad, crc.
std::optional<UbiVid> parse_ubi_vid(ByteView v, uint64_t pos) {
  if (!v.contains(pos, kUbiHeaderSize) || !v.matches(pos, "UBI!") || *v.u8(pos + 4) != 1) return std::nullopt;
  UbiVid h;
  h.vol_type = *v.u8(pos + 5);
  const uint8_t copy_flag = *v.u8(pos + 6);
  h.compat = *v.u8(pos + 7);
  h.vol_id = *v.u32be(pos + 8);
  h.lnum = *v.u32be(pos + 12);
  h.sqnum = *v.u64be(pos + 40);
  if ((h.vol_type != 1 && h.vol_type != 2) || copy_flag > 1) return std::nullopt;
  if (h.compat != 0 && h.compat != 1 && h.compat != 2 && h.compat != 4 && h.compat != 5) return std::nullopt;
  h.stored_crc = *v.u32be(pos + kUbiCrcLen);
  h.computed_crc = ubi_crc(*v.sub(pos, kUbiCrcLen));
  h.crc_ok = h.stored_crc == h.computed_crc;
  return h;
}

// Volume names from the layout volume's table (struct ubi_vtbl_record, 172 bytes each, CRC over the first 168).
void ubi_volume_names(ByteView v, uint64_t data_pos, std::vector<std::string>& names) {
  constexpr uint64_t kRecord = 172, kMaxRecords = 128;
  for (uint64_t i = 0; i < kMaxRecords; ++i) {
    auto rec = v.sub(data_pos + i * kRecord, kRecord);
    if (!rec) return;
    const uint32_t reserved = *rec->u32be(0);
    const uint16_t name_len = *rec->u16be(14);
    if (reserved == 0 || name_len == 0 || name_len > 127) continue;
    if (ubi_crc(*rec->sub(0, 168)) != *rec->u32be(168)) continue;
    names.push_back(printable(rec->cstring(16, name_len), 127));
  }
}

std::optional<Hit> validate_ubi_vid_only(const ValidateInput& in) {
  const ByteView v = in.image.tail(in.start);
  const uint64_t abs = in.image.base() + in.start;
  auto h = parse_ubi_vid(v, 0);
  if (!h) return std::nullopt;
  // A VID header behind a matching EC header is part of the PEB the "UBI#" signature reports.
  for (uint64_t k = kUbiHeaderSize; k <= kUbiMaxPeb && k <= in.start; k *= 2) {
    auto ec = parse_ubi_ec(in.image, in.start - k);
    if (ec && ec->vid_hdr_offset == k) return std::nullopt;
  }
  Hit hit;
  hit.offset = abs;
  hit.type = "ubi";
  hit.size = kUbiHeaderSize;
  hit.nesting = Nesting::Opaque;
  hit.confidence = h->crc_ok ? Confidence::Medium : Confidence::Low;
  if (!h->crc_ok)
    hit.diag(abs + kUbiCrcLen, Severity::Warning,
             "VID header CRC mismatch: stored " + hex(h->stored_crc) + ", computed " + hex(h->computed_crc));
  hit.description = "UBI volume identifier header (no erase-counter header before it), volume id " +
                    std::to_string(h->vol_id) + ", LEB " + std::to_string(h->lnum) + ", " +
                    (h->vol_type == 1 ? "dynamic" : "static") + ", sequence number " + std::to_string(h->sqnum);
  return hit;
}

std::optional<Hit> validate_ubi(const ValidateInput& in) {
  const ByteView v = in.image.tail(in.start);
  const uint64_t abs = in.image.base() + in.start;
  if (v.matches(0, "UBI!")) return validate_ubi_vid_only(in);
  auto first = parse_ubi_ec(v, 0);
  if (!first) return std::nullopt;

  Hit hit;
  hit.offset = abs;
  hit.type = "ubi";
  hit.nesting = Nesting::Opaque;
  std::string d = "UBI image, version 1";
  if (!first->crc_ok) {
    hit.diag(abs + kUbiCrcLen, Severity::Warning,
             "EC header CRC mismatch: stored " + hex(first->stored_crc) + ", computed " + hex(first->computed_crc));
    hit.confidence = Confidence::Low;
    hit.description = d + ", VID header offset: " + std::to_string(first->vid_hdr_offset) +
                      ", data offset: " + std::to_string(first->data_offset);
    return hit;
  }

  auto same_image = [&](const std::optional<UbiEc>& e) {
    return e && e->crc_ok && e->vid_hdr_offset == first->vid_hdr_offset && e->data_offset == first->data_offset &&
           e->image_seq == first->image_seq;
  };
  // PEB size: the smallest power of two above data_offset where the next EC header of this image sits.
  uint64_t peb = 0;
  for (uint64_t p = 1024; p <= kUbiMaxPeb && v.contains(p, kUbiHeaderSize); p *= 2) {
    if (p <= first->data_offset) continue;
    if (same_image(parse_ubi_ec(v, p))) {
      peb = p;
      break;
    }
  }

  uint64_t pebs = 1;
  if (peb)
    while (pebs < kUbiMaxPebs && same_image(parse_ubi_ec(v, pebs * peb))) ++pebs;
  if (pebs >= kUbiMaxPebs)
    hit.diag(abs, Severity::Info, "PEB walk stopped after " + std::to_string(kUbiMaxPebs) + " PEBs (cap)");

  // Volumes: distinct volume ids of the VID headers, names from the layout volume.
  std::set<uint32_t> volumes;
  std::vector<std::string> names;
  uint64_t bad_vid = 0;
  bool have_names = false;
  for (uint64_t i = 0; i < pebs; ++i) {
    const uint64_t base = i * (peb ? peb : 0);
    if (!v.contains(base + first->vid_hdr_offset, kUbiHeaderSize)) break;
    auto h = parse_ubi_vid(v, base + first->vid_hdr_offset);
    if (!h || !h->crc_ok) {
      // A free PEB has an all-0xFF VID area; anything else is damage.
      auto w = v.u32le(base + first->vid_hdr_offset);
      if (w != 0xFFFFFFFFu) ++bad_vid;
      continue;
    }
    if (h->vol_id == kUbiLayoutVolume) {
      if (!have_names) {
        ubi_volume_names(v, base + first->data_offset, names);
        have_names = true;
      }
    } else {
      volumes.insert(h->vol_id);
    }
  }

  hit.confidence = Confidence::High;
  if (bad_vid) {
    hit.diag(abs, Severity::Warning, std::to_string(bad_vid) + " PEB(s) with an invalid volume identifier header");
    hit.confidence = Confidence::Medium;
  }
  if (peb) {
    hit.size = pebs * peb;
    if (!v.contains(0, hit.size)) {
      hit.diag(abs + v.size(), Severity::Warning, "truncated: the last PEB runs past the end of the input");
      hit.size = v.size();
      hit.confidence = Confidence::Medium;
    }
    d += ", " + std::to_string(pebs) + " PEBs of " + std::to_string(peb) + " bytes";
  } else {
    d += ", single PEB";
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
// ELF
// ------------------------------------------------------------------------------------------------------------------

const char* elf_machine(uint16_t m) {
  switch (m) {
    case 2: return "SPARC";
    case 3: return "Intel 80386";
    case 4: return "Motorola m68k";
    case 8: return "MIPS";
    case 10: return "MIPS R3000 LE";
    case 18: return "SPARC32PLUS";
    case 20: return "PowerPC";
    case 21: return "64-bit PowerPC";
    case 22: return "IBM S/390";
    case 40: return "ARM";
    case 42: return "Renesas SH";
    case 43: return "SPARC V9";
    case 50: return "IA-64";
    case 62: return "x86-64";
    case 83: return "Atmel AVR";
    case 92: return "OpenRISC";
    case 93: return "ARC";
    case 94: return "Tensilica Xtensa";
    case 106: return "Analog Devices Blackfin";
    case 164: return "QUALCOMM DSP6";
    case 183: return "ARM aarch64";
    case 189: return "Xilinx MicroBlaze";
    case 195: return "ARCv2";
    case 243: return "RISC-V";
    case 258: return "LoongArch";
    default: return nullptr;
  }
}

std::string elf_osabi(uint8_t a) {
  switch (a) {
    case 0: return "SYSV";
    case 1: return "HP-UX";
    case 2: return "NetBSD";
    case 3: return "GNU/Linux";
    case 6: return "Solaris";
    case 9: return "FreeBSD";
    case 12: return "OpenBSD";
    case 97: return "ARM";
    case 255: return "embedded";
    default: return "OS ABI " + std::to_string(a);
  }
}

std::optional<Hit> validate_elf(const ValidateInput& in) {
  const ByteView v = in.image.tail(in.start);
  const uint64_t abs = in.image.base() + in.start;
  if (!v.matches(0, "\x7f" "ELF") || !v.contains(0, 52)) return std::nullopt;
  const uint8_t cls = *v.u8(4), data = *v.u8(5), version = *v.u8(6), osabi = *v.u8(7);
  if ((cls != 1 && cls != 2) || (data != 1 && data != 2) || version != 1) return std::nullopt;
  const bool is64 = cls == 2, be = data == 2;
  const uint64_t ehsize_expected = is64 ? 64 : 52;
  if (!v.contains(0, ehsize_expected)) return std::nullopt;

  const uint16_t e_type = *v.u16(16, be), e_machine = *v.u16(18, be);
  const uint32_t e_version = *v.u32(20, be);
  uint64_t phoff, shoff;
  uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
  if (is64) {
    phoff = *v.u64(32, be);
    shoff = *v.u64(40, be);
    ehsize = *v.u16(52, be);
    phentsize = *v.u16(54, be);
    phnum = *v.u16(56, be);
    shentsize = *v.u16(58, be);
    shnum = *v.u16(60, be);
    shstrndx = *v.u16(62, be);
  } else {
    phoff = *v.u32(28, be);
    shoff = *v.u32(32, be);
    ehsize = *v.u16(40, be);
    phentsize = *v.u16(42, be);
    phnum = *v.u16(44, be);
    shentsize = *v.u16(46, be);
    shnum = *v.u16(48, be);
    shstrndx = *v.u16(50, be);
  }
  const uint16_t ph_expected = is64 ? 56 : 32, sh_expected = is64 ? 64 : 40;
  // Fixed fields of every real ELF header: ET_REL..ET_CORE (or OS/processor-specific), EV_CURRENT, the header and
  // table entry sizes of the class.
  if (!((e_type >= 1 && e_type <= 4) || e_type >= 0xFE00) || e_machine == 0 || e_version != 1) return std::nullopt;
  if (ehsize != ehsize_expected) return std::nullopt;
  if (phnum && phentsize != ph_expected) return std::nullopt;
  if (shnum && shentsize != sh_expected) return std::nullopt;

  Hit hit;
  hit.offset = abs;
  hit.type = "elf";
  hit.nesting = Nesting::Container;
  constexpr uint64_t kMaxOffset = uint64_t{1} << 40;  // no firmware ELF is larger; also keeps sums from wrapping
  bool consistent = true, truncated = false;
  auto inconsistent = [&](uint64_t at, std::string msg) {
    hit.diag(abs + at, Severity::Warning, std::move(msg));
    consistent = false;
  };
  uint64_t size = ehsize;
  bool have_tables = false;

  // Program headers: the table, then each segment's file bytes.
  if (phnum) {
    const uint64_t ph_end = phoff + uint64_t{phnum} * ph_expected;
    if (phoff < ehsize || phoff > kMaxOffset) {
      inconsistent(is64 ? 32 : 28, "program header table offset " + hex(phoff) + " is implausible");
    } else {
      size = std::max(size, ph_end);
      if (!v.contains(phoff, ph_end - phoff)) {
        truncated = true;
      } else {
        have_tables = true;
        for (uint64_t i = 0; i < phnum; ++i) {
          const uint64_t e = phoff + i * ph_expected;
          const uint64_t off = is64 ? *v.u64(e + 8, be) : *v.u32(e + 4, be);
          const uint64_t filesz = is64 ? *v.u64(e + 32, be) : *v.u32(e + 16, be);
          if (off > kMaxOffset || filesz > kMaxOffset) {
            inconsistent(e, "segment " + std::to_string(i) + " offset/size " + hex(off) + "/" + hex(filesz) +
                                " is implausible");
            break;
          }
          if (filesz) size = std::max(size, off + filesz);
        }
      }
    }
  }

  // Section headers. e_shnum 0 with a table means the count is in section 0's sh_size (extended numbering).
  uint64_t sections = shnum;
  if (shoff) {
    if (shoff < ehsize || shoff > kMaxOffset) {
      inconsistent(is64 ? 40 : 32, "section header table offset " + hex(shoff) + " is implausible");
      sections = 0;
    } else if (sections == 0 && shentsize == sh_expected && v.contains(shoff, sh_expected)) {
      sections = is64 ? *v.u64(shoff + 32, be) : *v.u32(shoff + 20, be);
      if (sections > 0x100000) {
        inconsistent(shoff, "extended section count " + std::to_string(sections) + " is implausible");
        sections = 0;
      }
    }
  }
  if (shoff && sections) {
    const uint64_t sh_end = shoff + sections * sh_expected;
    size = std::max(size, sh_end);
    if (!v.contains(shoff, sh_end - shoff)) {
      truncated = true;
    } else {
      have_tables = true;
      for (uint64_t i = 0; i < sections; ++i) {
        const uint64_t e = shoff + i * sh_expected;
        const uint32_t sh_type = *v.u32(e + 4, be);
        const uint64_t off = is64 ? *v.u64(e + 24, be) : *v.u32(e + 16, be);
        const uint64_t sz = is64 ? *v.u64(e + 32, be) : *v.u32(e + 20, be);
        if (sh_type == 0 || sh_type == 8) continue;  // SHT_NULL, SHT_NOBITS: no bytes in the file
        if (off > kMaxOffset || sz > kMaxOffset) {
          inconsistent(e, "section " + std::to_string(i) + " offset/size " + hex(off) + "/" + hex(sz) +
                              " is implausible");
          break;
        }
        size = std::max(size, off + sz);
      }
      // The section-name string table must be a STRTAB section (SHN_XINDEX: its index is in section 0's sh_link).
      uint64_t strndx = shstrndx;
      if (shstrndx == 0xFFFF) strndx = *v.u32(shoff + (is64 ? 40 : 24), be);
      if (strndx != 0) {
        if (strndx >= sections)
          inconsistent(is64 ? 62 : 50, "section name table index " + std::to_string(strndx) + " >= section count");
        else if (*v.u32(shoff + strndx * sh_expected + 4, be) != 3)
          inconsistent(is64 ? 62 : 50, "section name table is not a string table");
      }
    }
  }

  if (size > v.size()) {
    truncated = true;
    hit.diag(abs + v.size(), Severity::Warning,
             "truncated: the ELF needs " + std::to_string(size) + " bytes but only " + std::to_string(v.size()) +
                 " are available");
  }
  hit.size = std::min<uint64_t>(size, v.size());
  if (!consistent || !have_tables)
    hit.confidence = Confidence::Low;
  else if (truncated)
    hit.confidence = Confidence::Medium;
  else
    hit.confidence = Confidence::High;

  std::string d = std::string("ELF, ") + (is64 ? "64-bit " : "32-bit ") + (be ? "MSB " : "LSB ");
  switch (e_type) {
    case 1: d += "relocatable"; break;
    case 2: d += "executable"; break;
    case 3: d += "shared object"; break;
    case 4: d += "core file"; break;
    default: d += e_type >= 0xFF00 ? "processor-specific" : "OS-specific"; break;
  }
  const char* machine = elf_machine(e_machine);
  d += ", " + (machine ? std::string(machine) : "machine " + std::to_string(e_machine));
  d += ", version 1 (" + elf_osabi(osabi) + ")";
  hit.description = std::move(d);
  return hit;
}

}  // namespace

void register_filesystem_validators(ValidatorRegistry& registry) {
  register_jffs2_validators(registry);  // formats/jffs2.cpp
  registry.add("ubi", "UBI erase-counter/volume headers (CRC), PEB walk for the image size", validate_ubi);
  registry.add("elf", "ELF header, program and section header tables; size = end of the last table or content",
               validate_elf);
}

}  // namespace fwcert
