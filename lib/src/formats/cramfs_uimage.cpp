// Validators for CramFS (both byte orders) and the U-Boot legacy uImage.
#include <array>

#include "fwcert/core/checksum.hpp"
#include "fwcert/formats/cramfs.hpp"
#include "fwcert/formats/uimage.hpp"
#include "fwcert/scan/validator.hpp"

namespace fwcert {

// ---------------------------------------------------------------------------------------------------------------
// CramFS

namespace cramfs {

std::optional<Inode> read_inode(ByteView view, uint64_t off, bool big_endian) {
  auto w0 = view.u32(off, big_endian), w1 = view.u32(off + 4, big_endian), w2 = view.u32(off + 8, big_endian);
  if (!w0 || !w1 || !w2) return std::nullopt;
  Inode n;
  // C bitfields fill from the least significant bit on little-endian hosts and from the most significant on
  // big-endian ones (FORMATS.md 1.4), so each word is split differently per byte order.
  if (!big_endian) {
    n.mode = *w0 & 0xffff;
    n.uid = *w0 >> 16;
    n.size = *w1 & 0xffffff;
    n.gid = *w1 >> 24;
    n.namelen = *w2 & 0x3f;
    n.offset = *w2 >> 6;
  } else {
    n.mode = *w0 >> 16;
    n.uid = *w0 & 0xffff;
    n.size = *w1 >> 8;
    n.gid = *w1 & 0xff;
    n.namelen = *w2 >> 26;
    n.offset = *w2 & 0x3ffffff;
  }
  return n;
}

Result<Superblock> read_superblock(ByteView view, uint64_t start) {
  auto le = view.u32le(start);
  if (!le) return make_error(view.base() + start, "cramfs: truncated superblock");
  Superblock sb;
  sb.start = start;
  if (*le == kMagic) {
    sb.big_endian = false;
  } else if (view.u32be(start) == kMagic) {
    sb.big_endian = true;
  } else {
    return make_error(view.base() + start, "cramfs: bad magic");
  }
  if (!view.contains(start, kSuperblockSize))
    return make_error(view.base() + start, "cramfs: truncated superblock (" +
                                               std::to_string(view.size() - start) + " of 76 bytes)");
  const bool be = sb.big_endian;
  sb.size = *view.u32(start + 4, be);
  sb.flags = *view.u32(start + 8, be);
  sb.signature_ok = view.matches(start + 16, "Compressed ROMFS");
  sb.crc = *view.u32(start + 32, be);
  sb.edition = *view.u32(start + 36, be);
  sb.blocks = *view.u32(start + 40, be);
  sb.files = *view.u32(start + 44, be);
  sb.name = view.cstring(start + 48, 16);
  sb.root = *read_inode(view, start + 64, be);
  return sb;
}

}  // namespace cramfs

namespace {

std::optional<Hit> validate_cramfs(const ValidateInput& in) {
  auto sbr = cramfs::read_superblock(in.image, in.start);
  if (!sbr) return std::nullopt;
  const cramfs::Superblock& sb = *sbr;
  Hit hit;
  hit.offset = in.image.base() + in.start;
  hit.type = "cramfs";
  hit.nesting = Nesting::Opaque;

  // Without the signature text or a directory as root this is just four matching bytes.
  if (!sb.signature_ok && !(sb.flags & cramfs::kFlagWrongSignature)) return std::nullopt;
  if (!cramfs::is_dir(sb.root.mode)) return std::nullopt;
  Confidence conf = Confidence::High;
  auto lower = [&](Confidence c) {
    if (c < conf) conf = c;
  };

  // Offsets in a CramFS are absolute from byte 0 of the image file, which may carry a 512-byte boot pad before the
  // superblock (FORMATS.md 1.1): a root directory at 512+76 says the file starts 512 bytes earlier.
  uint64_t fs_start = in.start;
  const uint64_t root_off = uint64_t{sb.root.offset} * 4;
  if (!(sb.flags & cramfs::kFlagShiftedRootOffset) && root_off == 512 + cramfs::kSuperblockSize && in.start >= 512) {
    fs_start = in.start - 512;
    hit.offset = in.image.base() + fs_start;
  } else if (!(sb.flags & cramfs::kFlagShiftedRootOffset) && root_off != 0 && root_off != cramfs::kSuperblockSize) {
    hit.diag(in.image.base() + in.start + 64, Severity::Warning,
             "root directory at " + hex(root_off) + " instead of 0x4C without the shifted-root flag");
    lower(Confidence::Medium);
  }
  if (sb.flags & ~cramfs::kKnownFlags) {
    hit.diag(in.image.base() + in.start + 8, Severity::Warning, "unknown flags " + hex(sb.flags & ~cramfs::kKnownFlags));
    lower(Confidence::Low);
  }

  const bool v2 = sb.flags & cramfs::kFlagFsidVersion2;
  const uint64_t avail = in.image.size() - fs_start;
  if (v2) {
    if (sb.size < (in.start - fs_start) + cramfs::kSuperblockSize) return std::nullopt;
    if (sb.files == 0) return std::nullopt;
    if (root_off != 0 && root_off >= sb.size) return std::nullopt;
    hit.size = sb.size;
    if (sb.size > avail) {
      hit.diag(hit.offset, Severity::Warning,
               "truncated: the superblock says " + std::to_string(sb.size) + " bytes, " + std::to_string(avail) +
                   " remain; CRC not checked");
      lower(Confidence::Medium);
    } else {
      // The CRC covers [superblock, size): a boot pad before the superblock is not part of it (FORMATS.md 1.8).
      ByteView fs = *in.image.sub(in.start, sb.size - (in.start - fs_start));
      const uint32_t computed = crc32_with_zeroed_word(fs, 32);
      if (computed != sb.crc) {
        hit.diag(hit.offset + 32, Severity::Warning,
                 "CRC mismatch: stored " + hex(sb.crc) + ", computed " + hex(computed));
        lower(Confidence::Medium);
      }
    }
  } else {
    // Old format: size and fsid are not meaningful, there is no CRC.
    lower(Confidence::Medium);
  }

  std::string d = "CramFS filesystem, ";
  d += sb.big_endian ? "big endian" : "little endian";
  if (v2) d += ", size: " + std::to_string(sb.size);
  d += v2 ? ", version 2" : ", version 1";
  if (sb.flags & cramfs::kFlagSortedDirs) d += ", sorted_dirs";
  if (sb.flags & cramfs::kFlagHoles) d += ", holes";
  if (sb.flags & cramfs::kFlagShiftedRootOffset) d += ", shifted_root_offset";
  if (sb.flags & cramfs::kFlagExtBlockPointers) d += ", ext_block_pointers";
  if (v2) {
    char crc[16];
    std::snprintf(crc, sizeof crc, "0x%08X", sb.crc);
    d += std::string(", CRC ") + crc + ", edition " + std::to_string(sb.edition) + ", " +
         std::to_string(sb.blocks) + " blocks, " + std::to_string(sb.files) + " files";
  }
  if (fs_start != in.start) d += ", 512-byte boot pad";
  hit.description = std::move(d);
  hit.confidence = conf;
  return hit;
}

// A CramFS whose superblock is gone (overwritten, erased): found by its root directory inode, which the signatures
// anchor on its third word (name length 0, entries at 76, or 588 after a boot pad; cramfs-uimage.sig). Low
// confidence while only the root directory is plausible; medium once the tree reads back (cramfs::probe_headless).
// The walk never gets here inside a CramFS it validated (it skips past it), and a CramFS hit at the same offset
// (a superblock the cramfs validator accepted at any confidence) is not reported twice.
std::optional<Hit> validate_cramfs_root(const ValidateInput& in) {
  const bool pad = in.signature && in.signature->at >= 512;
  for (bool be : {false, true}) {
    const cramfs::HeadlessProbe p = cramfs::probe_headless(in.image, in.start, be, pad);
    if (!p.found) continue;
    Hit hit;
    hit.offset = in.image.base() + in.start;
    hit.type = "cramfs";
    hit.nesting = Nesting::Opaque;
    hit.size = p.size;
    hit.confidence = p.consistent ? Confidence::Medium : Confidence::Low;
    std::string d = "CramFS filesystem without superblock (found by its root directory), ";
    d += be ? "big endian" : "little endian";
    d += ", size: " + std::to_string(p.size);
    if (p.block_size) d += ", block size " + std::to_string(p.block_size);
    d += ", " + std::to_string(p.entries) + " root entries, " + std::to_string(p.files) + " files, " +
         std::to_string(p.dirs) + " directories";
    if (pad) d += ", 512-byte boot pad";
    d += p.consistent ? ", tree reads back: recovered" : ", tree does not read back";
    hit.description = std::move(d);
    hit.diag(hit.offset, Severity::Warning,
             "no CramFS superblock: root directory inode at " + hex(in.image.base() + p.root_at) +
                 (p.consistent ? "; " + std::to_string(p.inflated) + " sampled files inflate to their sizes"
                               : "; not recovered: " + p.why));
    return hit;
  }
  return std::nullopt;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// uImage

namespace uimage {

Result<Header> read_header(ByteView view, uint64_t start) {
  auto hv = view.sub(start, kHeaderSize);
  if (!hv) return make_error(view.base() + start, "uimage: truncated header");
  if (hv->u32be(0) != kMagic) return make_error(view.base() + start, "uimage: bad magic");
  Header h;
  h.hcrc = *hv->u32be(4);
  h.time = *hv->u32be(8);
  h.size = *hv->u32be(12);
  h.load = *hv->u32be(16);
  h.ep = *hv->u32be(20);
  h.dcrc = *hv->u32be(24);
  h.os = *hv->u8(28);
  h.arch = *hv->u8(29);
  h.type = *hv->u8(30);
  h.comp = *hv->u8(31);
  h.name = hv->cstring(32, 32);
  return h;
}

namespace {
template <size_t N>
std::string_view lookup(const std::array<std::string_view, N>& table, uint8_t v) {
  return v < N ? table[v] : std::string_view{};
}
}  // namespace

std::string_view os_name(uint8_t v) {
  static constexpr std::array<std::string_view, 30> k = {
      "",        "OpenBSD", "NetBSD", "FreeBSD", "4_4BSD", "Linux",  "SVR4",   "Esix",   "Solaris", "Irix",
      "SCO",     "Dell",    "NCR",    "LynxOS",  "VxWorks", "pSOS", "QNX",    "Firmware", "RTEMS", "ARTOS",
      "Unity OS", "INTEGRITY", "OSE", "Plan 9",  "OpenRTOS", "ARM Trusted Firmware", "Trusted Execution Environment",
      "RISC-V OpenSBI", "EFI Firmware", "ELF Image"};
  return lookup(k, v);
}

std::string_view arch_name(uint8_t v) {
  static constexpr std::array<std::string_view, 27> k = {
      "",        "Alpha",   "ARM",     "Intel x86", "IA64",      "MIPS",   "MIPS 64 Bit", "PowerPC", "IBM S390",
      "SuperH",  "SPARC",   "SPARC 64 Bit", "M68K", "Nios-32", "MicroBlaze", "Nios-II", "Blackfin", "AVR32",
      "ST200",   "Sandbox", "NDS32",   "OpenRISC 1000", "AArch64", "ARC", "AMD x86_64", "Xtensa", "RISC-V"};
  return lookup(k, v);
}

std::string_view type_name(uint8_t v) {
  static constexpr std::array<std::string_view, 48> k = {
      "",                       "Standalone Program",  "OS Kernel Image",       "RAMDisk Image",
      "Multi-File Image",       "Firmware Image",      "Script File",           "Filesystem Image",
      "Flat Device Tree",       "Kirkwood Boot Image", "Freescale i.MX Boot Image", "Davinci UBL image",
      "TI OMAP SPL With GP CH", "Davinci AIS image",   "Kernel Image (no loading done)", "Freescale PBL Boot Image",
      "Freescale MXS Boot Image", "TI Keystone SPL Image", "ATMEL ROM-Boot Image", "Altera SoCFPGA CRC32 preloader",
      "x86 setup.bin",          "LPC32XX Boot Image",  "Loadable Program Image", "Rockchip Boot Image",
      "Rockchip SD Boot Image", "Rockchip SPI Boot Image", "Xilinx Zynq Boot Image", "Xilinx ZynqMP Boot Image",
      "Xilinx ZynqMP Boot Image (bif)", "FPGA Image", "Vybrid Boot Image", "Trusted Execution Environment Image",
      "Firmware with HABv4 IVT", "TI Power Management Micro-Controller Firmware", "STMicroelectronics STM32 Image",
      "Altera SoCFPGA V1 preloader", "MediaTek BootROM loadable Image", "NXP i.MX8M Boot Image",
      "NXP i.MX8 Boot Image",   "Coprocessor Image",   "Allwinner eGON Boot Image", "Allwinner TOC0 Boot Image",
      "legacy Flat Device Tree", "Renesas SPKG Image", "StarFive SPL Image", "TF-A BL31 Image",
      "STMicroelectronics STM32 Image V2", "Amlogic Boot Image"};
  return lookup(k, v);
}

std::string_view comp_name(uint8_t v) {
  static constexpr std::array<std::string_view, 7> k = {"none", "gzip", "bzip2", "lzma", "lzo", "lz4", "zstd"};
  return lookup(k, v);
}

std::vector<uint32_t> multi_part_sizes(ByteView payload, size_t max_parts) {
  std::vector<uint32_t> sizes;
  for (uint64_t off = 0;; off += 4) {
    auto v = payload.u32be(off);
    if (!v) return {};
    if (*v == 0) break;
    if (sizes.size() >= max_parts) return {};
    sizes.push_back(*v);
  }
  return sizes;
}

}  // namespace uimage

namespace {

// The first bytes U-Boot expects of a payload with each compression (boot/image.c), index = ih_comp.
bool payload_matches_compression(ByteView payload, uint8_t comp) {
  static const char* const kMagic[] = {nullptr, "\x1f\x8b", "BZ", "\x5d\x00", "\x89\x4c", "\x04\x22", "\x28\xb5"};
  if (comp == 0 || comp >= std::size(kMagic)) return true;
  return payload.matches(0, std::string_view(kMagic[comp], 2));
}

std::optional<Hit> validate_uimage(const ValidateInput& in) {
  auto hr = uimage::read_header(in.image, in.start);
  if (!hr) return std::nullopt;
  const uimage::Header& h = *hr;
  Hit hit;
  hit.offset = in.image.base() + in.start;
  hit.type = "uimage";
  hit.nesting = Nesting::Container;  // payloads (gzip, CramFS, cpio) are listed too
  Confidence conf = Confidence::High;
  auto lower = [&](Confidence c) {
    if (c < conf) conf = c;
  };

  ByteView header = *in.image.sub(in.start, uimage::kHeaderSize);
  const uint32_t hcrc = crc32_with_zeroed_word(header, 4);
  if (hcrc != h.hcrc) {
    hit.diag(hit.offset + 4, Severity::Warning, "header CRC mismatch: stored " + hex(h.hcrc) + ", computed " + hex(hcrc));
    lower(Confidence::Low);
  }
  const bool known = !uimage::os_name(h.os).empty() && !uimage::arch_name(h.arch).empty() &&
                     !uimage::type_name(h.type).empty() && !uimage::comp_name(h.comp).empty();
  if (!known) {
    // A good header CRC over unknown values is a newer U-Boot; a bad one over unknown values is noise.
    if (hcrc != h.hcrc) return std::nullopt;
    hit.diag(hit.offset + 28, Severity::Info, "OS, architecture, type or compression value unknown to this version");
    lower(Confidence::Medium);
  }

  hit.size = uint64_t{uimage::kHeaderSize} + h.size;
  const uint64_t avail = in.image.size() - in.start - uimage::kHeaderSize;
  ByteView payload = in.image.clamp(in.start + uimage::kHeaderSize, h.size);
  if (h.size > avail) {
    hit.diag(hit.offset + 12, Severity::Warning,
             "truncated: image size " + std::to_string(h.size) + " bytes, " + std::to_string(avail) +
                 " remain; data CRC not checked");
    lower(Confidence::Medium);
  } else {
    const uint32_t dcrc = crc32(payload);
    if (dcrc != h.dcrc) {
      hit.diag(hit.offset + 24, Severity::Warning, "data CRC mismatch: stored " + hex(h.dcrc) + ", computed " + hex(dcrc));
      lower(Confidence::Medium);
    }
  }
  if (!payload_matches_compression(payload, h.comp)) {
    std::string what = payload.u32le(0) == cramfs::kMagic || payload.u32be(0) == cramfs::kMagic
                           ? " (it starts like a CramFS)"
                           : "";
    hit.diag(hit.offset + 64, Severity::Info,
             std::string("header says ") + std::string(uimage::comp_name(h.comp)) +
                 " but the payload does not start with its magic" + what);
  }

  char buf[64];
  std::string d = "uImage header, header size: 64 bytes";
  std::snprintf(buf, sizeof buf, "0x%08X", h.hcrc);
  d += std::string(", header CRC: ") + buf + ", created: " + utc_time(h.time);
  d += ", image size: " + std::to_string(h.size) + " bytes";
  std::snprintf(buf, sizeof buf, "0x%X", h.load);
  d += std::string(", Data Address: ") + buf;
  std::snprintf(buf, sizeof buf, "0x%X", h.ep);
  d += std::string(", Entry Point: ") + buf;
  std::snprintf(buf, sizeof buf, "0x%08X", h.dcrc);
  d += std::string(", data CRC: ") + buf;
  auto name_or_value = [](std::string_view n, uint8_t v) { return n.empty() ? "unknown (" + std::to_string(v) + ")" : std::string(n); };
  d += ", OS: " + name_or_value(uimage::os_name(h.os), h.os);
  d += ", CPU: " + name_or_value(uimage::arch_name(h.arch), h.arch);
  d += ", image type: " + name_or_value(uimage::type_name(h.type), h.type);
  d += ", compression type: " + name_or_value(uimage::comp_name(h.comp), h.comp);
  d += ", image name: \"" + printable(h.name, 32) + "\"";
  if (h.type == uimage::kTypeMulti || h.type == uimage::kTypeScript) {
    auto parts = uimage::multi_part_sizes(payload);
    if (parts.empty()) {
      hit.diag(hit.offset + 64, Severity::Warning, "multi-file size table does not fit the payload");
      lower(Confidence::Medium);
    } else {
      d += ", " + std::to_string(parts.size()) + (parts.size() == 1 ? " part:" : " parts:");
      for (size_t i = 0; i < parts.size() && i < 16; ++i) d += (i ? ", " : " ") + std::to_string(parts[i]);
      if (parts.size() > 16) d += ", ...";
      d += " bytes";
    }
  }
  hit.description = std::move(d);
  hit.confidence = conf;
  return hit;
}

}  // namespace

void register_cramfs_uimage_validators(ValidatorRegistry& registry) {
  registry.add("cramfs", "CramFS superblock (both byte orders): signature, root inode, size, CRC-32", validate_cramfs);
  registry.add("cramfs-root",
               "CramFS without superblock, by its root directory inode (both byte orders): entries, tree, blocks",
               validate_cramfs_root);
  registry.add("uimage", "U-Boot legacy image: header CRC, data CRC, every field decoded, multi-file parts",
               validate_uimage);
}

}  // namespace fwcert
