// OpenBMC static and UBI flash layouts: validators and container readers. Offsets and their public sources:
// fwcert/formats/openbmc.hpp.
#include "fwcert/formats/openbmc.hpp"

#include <algorithm>
#include <cstring>

#include "fwcert/core/checksum.hpp"
#include "fwcert/formats/fit.hpp"
#include "fwcert/scan/validator.hpp"

namespace fwcert::openbmc {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

struct Slot {
  const char* name;
  uint64_t offset, size;  // size 0: to the end of the flash
};

// openbmc-flash-layout.dtsi, -64.dtsi, -128.dtsi; image_types_phosphor.bbclass FLASH_*_OFFSET.
constexpr Slot kStatic32[] = {{"u-boot", 0, 0x60000}, {"u-boot-env", 0x60000, 0x20000}, {"kernel", 0x80000, 0x440000},
                              {"rofs", 0x4C0000, 0x1740000}, {"rwfs", 0x1C00000, 0x400000}};
constexpr Slot kStatic64[] = {{"u-boot", 0, 0xE0000}, {"u-boot-env", 0xE0000, 0x20000}, {"kernel", 0x100000, 0x900000},
                              {"rofs", 0xA00000, 0x2000000}, {"rwfs", 0x2A00000, 0x1600000}};
constexpr Slot kStatic128[] = {{"u-boot", 0, 0xE0000}, {"u-boot-env", 0xE0000, 0x20000},
                               {"kernel", 0x100000, 0x900000}, {"rofs", 0xA00000, 0x5600000},
                               {"rwfs", 0x6000000, 0x2000000}};
// The UBI layout: u-boot and its environment as above, the UBI image from FLASH_UBI_OFFSET to the end.
constexpr Slot kUbi32[] = {{"u-boot", 0, 0x60000}, {"u-boot-env", 0x60000, 0x20000}, {"obmc-ubi", 0x80000, 0}};
constexpr Slot kUbi64[] = {{"u-boot", 0, 0xE0000}, {"u-boot-env", 0xE0000, 0x20000}, {"obmc-ubi", 0x100000, 0}};

constexpr uint32_t kUbiLayoutVolume = 0x7FFFEFFF;  // UBI_LAYOUT_VOLUME_ID
constexpr uint64_t kVtblRecord = 172;              // sizeof(struct ubi_vtbl_record)
constexpr uint64_t kMaxPebs = 1u << 16;

uint64_t used_bytes(ByteView v) {
  size_t n = v.size();
  // Word steps over the erased tail (most of a partition), then byte steps.
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, v.data() + n - 8, 8);
    if (w != ~uint64_t{0}) break;
    n -= 8;
  }
  while (n > 0 && v.data()[n - 1] == 0xFF) --n;
  return n;
}

// U-Boot environment: CRC-32 (LE) of the data area, then "name=value\0" pairs; the environment size is not stored,
// so every 512-byte multiple up to the partition size is tried (as the uboot-env validator does).
struct EnvCheck {
  bool crc_ok = false;
  uint64_t size = 0;
  size_t vars = 0;
  bool openbmc = false;  // an OpenBMC variable (bootside, openbmc*, obmc*) or an OpenBMC boot command
};

EnvCheck check_env(ByteView part) {
  EnvCheck e;
  auto stored = part.u32le(0);
  if (!stored) return e;
  uint32_t crc = 0;
  uint64_t done = 4;
  for (uint64_t size = 0x200; size <= part.size(); size += 0x200) {
    crc = crc32(*part.sub(done, size - done), crc);
    done = size;
    if (crc == *stored) {
      e.crc_ok = true;
      e.size = size;
      break;
    }
  }
  uint64_t q = 4;
  const uint64_t stop = e.size ? e.size : std::min<uint64_t>(part.size(), 0x20000);
  while (q < stop && part.data()[q] != 0 && e.vars < 4096) {
    std::string var = part.cstring(q, static_cast<size_t>(std::min<uint64_t>(stop - q, 4096)));
    if (var.find('=') == std::string::npos) break;
    ++e.vars;
    const std::string name = var.substr(0, var.find('='));
    if (name == "bootside" || name.rfind("openbmc", 0) == 0 || name.rfind("obmc", 0) == 0 ||
        var.find("ubi.mtd=") != std::string::npos || var.find("mtdparts=") != std::string::npos)
      e.openbmc = true;
    q += var.size() + 1;
  }
  return e;
}

// The names of the volumes in the UBI image's volume table (layout volume), with their type.
std::vector<std::string> ubi_volumes(ByteView ubi, std::vector<Diagnostic>& diags) {
  std::vector<std::string> out;
  if (!ubi.matches(0, "UBI#") || ubi.u8(4) != 1) return out;
  const uint32_t vid_off = ubi.u32be(16).value_or(0), data_off = ubi.u32be(20).value_or(0);
  uint64_t peb = 0;
  for (uint64_t p = 0x4000; p <= 0x200000; p *= 2)
    if (ubi.matches(p, "UBI#")) {
      peb = p;
      break;
    }
  if (!peb || vid_off < 64 || data_off <= vid_off || data_off >= peb) return out;
  for (uint64_t i = 0; i < kMaxPebs && (i + 1) * peb <= ubi.size(); ++i) {
    const uint64_t at = i * peb;
    if (!ubi.matches(at + vid_off, "UBI!") || ubi.u32be(at + vid_off + 8) != kUbiLayoutVolume) continue;
    size_t bad = 0;
    for (uint64_t r = 0; r < 128; ++r) {
      auto rec = ubi.sub(at + data_off + r * kVtblRecord, kVtblRecord);
      if (!rec) break;
      if (rec->u32be(0) == 0u) continue;  // reserved_pebs 0: record not in use
      const uint32_t ubi_crc = ~crc32(*rec->sub(0, 168));  // crc32_le(UBI_CRC32_INIT, ...) without inversion
      if (ubi_crc != rec->u32be(168)) {
        ++bad;
        continue;
      }
      const uint16_t len = std::min<uint16_t>(*rec->u16be(14), 127);
      const uint8_t type = *rec->u8(12);
      out.push_back(printable(rec->cstring(16, len), 127) + (type == 2 ? " (static)" : type == 1 ? " (dynamic)" : ""));
    }
    if (bad)
      diags.push_back({ubi.base() + at + data_off, Severity::Warning,
                       std::to_string(bad) + " UBI volume table records with a bad CRC"});
    break;
  }
  return out;
}

bool starts(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

}  // namespace

std::optional<Layout> recognise(ByteView flash, Kind kind, uint64_t kernel_offset) {
  Layout l;
  l.kind = kind;
  const Slot* slots = nullptr;
  size_t count = 0;
  if (kernel_offset == 0x80000) {
    l.flash_size = 32 * kMiB;
    slots = kind == Kind::Static ? kStatic32 : kUbi32;
    count = kind == Kind::Static ? std::size(kStatic32) : std::size(kUbi32);
  } else if (kernel_offset == 0x100000) {
    // 64 and 128 MiB flashes place everything alike up to rofs; a 128 MiB input is taken as a 128 MiB flash.
    const bool big = flash.size() > 64 * kMiB;
    l.flash_size = big ? 128 * kMiB : 64 * kMiB;
    slots = kind == Kind::Ubi ? kUbi64 : big ? kStatic128 : kStatic64;
    count = kind == Kind::Ubi ? std::size(kUbi64) : big ? std::size(kStatic128) : std::size(kStatic64);
  } else {
    return std::nullopt;
  }
  // The part that shows the layout: a FIT (static) or a UBI image (ubi) at the kernel offset.
  const ByteView at_kernel = flash.tail(kernel_offset);
  if (kind == Kind::Static) {
    if (at_kernel.u32be(0) != 0xd00dfeedu) return std::nullopt;
  } else if (!at_kernel.matches(0, "UBI#") || at_kernel.u8(4) != 1) {
    return std::nullopt;
  }
  bool rofs_ok = false, env_ok = false, fit_ok = false, ubi_named = false, bad = false;
  for (size_t i = 0; i < count; ++i) {
    Partition p;
    p.name = slots[i].name;
    p.offset = slots[i].offset;
    p.size = slots[i].size ? slots[i].size : l.flash_size - slots[i].offset;
    const ByteView part = flash.clamp(p.offset, p.size);
    const uint64_t abs = flash.base() + p.offset;
    if (part.size() < p.size) {
      p.truncated = true;
      l.diagnostics.push_back({flash.base() + flash.size(), Severity::Warning,
                               p.name + ": the input ends " + std::to_string(part.size()) + " bytes into the " +
                                   std::to_string(p.size) + "-byte partition"});
    }
    p.used = used_bytes(part);
    p.erased = p.used == 0;
    // File systems made of erase blocks (UBI PEBs, JFFS2 blocks) keep whole 64 KiB blocks: their readers count
    // in blocks. The others end at their last programmed byte.
    if (p.name == "rwfs" || p.name == "obmc-ubi") p.used = std::min<uint64_t>(part.size(), (p.used + 0xFFFF) & ~uint64_t{0xFFFF});
    if (p.erased) {
      p.content = part.empty() ? "absent" : "erased";
      if (p.name == "kernel" || p.name == "rofs" || p.name == "obmc-ubi") {
        // The layout's image always writes these: an erased one is a broken or partial flash.
        p.damaged = true;
        l.diagnostics.push_back({abs, Severity::Error,
                                 p.name + ": " + p.content + (p.name == "rofs" ? ", no squashfs superblock" : "")});
      }
    } else if (p.name == "u-boot") {
      p.content = "boot loader, " + std::to_string(p.used) + " bytes";
    } else if (p.name == "u-boot-env") {
      EnvCheck e = check_env(part);
      env_ok = e.crc_ok;
      p.content = "U-Boot environment, " + std::to_string(e.vars) + " variables";
      if (e.crc_ok) {
        p.content += ", size " + hex(e.size) + ", CRC ok";
        if (e.openbmc) p.content += ", OpenBMC variables";
      } else {
        p.damaged = true;
        p.content += ", CRC MISMATCH";
        l.diagnostics.push_back({abs, Severity::Error,
                                 "u-boot-env: stored CRC-32 " + hex(*part.u32le(0)) +
                                     " matches no environment size up to the partition size"});
      }
    } else if (p.name == "kernel") {
      auto images = fit::list_images(part);
      if (images && !images->empty()) {
        fit_ok = true;
        p.content = "FIT, " + std::to_string(images->size()) + (images->size() == 1 ? " image" : " images");
      } else {
        p.damaged = true;
        p.content = "no FIT";
        l.diagnostics.push_back({abs, Severity::Error,
                                 "kernel: " + (images ? std::string("FIT without images") : images.error().message)});
      }
    } else if (p.name == "rofs") {
      const bool le = part.matches(0, "hsqs"), be = part.matches(0, "sqsh");
      if (le || be) {
        const uint16_t major = part.u16(28, be).value_or(0);
        const uint64_t used = part.u64(40, be).value_or(0);
        p.content = "squashfs " + std::to_string(major) + ", " + std::to_string(used) + " bytes used";
        if (used > p.size) {
          p.damaged = true;
          l.diagnostics.push_back({abs + 40, Severity::Error,
                                   "rofs: squashfs bytes_used " + std::to_string(used) + " exceeds the partition"});
        } else {
          rofs_ok = true;
        }
      } else {
        p.damaged = true;
        p.content = "no squashfs";
        l.diagnostics.push_back({abs, Severity::Error, "rofs: no squashfs superblock at the partition start"});
      }
    } else if (p.name == "rwfs") {
      if (part.u16le(0) == 0x1985u || part.u16be(0) == 0x1985u) p.content = "JFFS2";
      else if (part.u32le(0) == 0x06101831u) p.content = "UBIFS";
      else if (part.u16le(0x438) == 0xEF53u) p.content = "ext2/3/4";
      else p.content = "data (not JFFS2)";
      p.content += ", " + std::to_string(p.used) + " bytes programmed";
    } else if (p.name == "obmc-ubi") {
      l.volumes = ubi_volumes(part, l.diagnostics);
      p.content = "UBI, " + std::to_string(l.volumes.size()) + " volumes";
      for (const auto& v : l.volumes)
        if (starts(v, "kernel-") || starts(v, "rofs-") || starts(v, "rwfs")) ubi_named = true;
      if (!ubi_named) {
        p.damaged = true;
        l.diagnostics.push_back({abs, Severity::Warning,
                                 "obmc-ubi: no kernel-*, rofs-* or rwfs volume in the UBI volume table"});
      }
    }
    bad = bad || p.damaged || p.truncated;
    l.partitions.push_back(std::move(p));
  }
  if (kind == Kind::Static) {
    // A FIT alone at 0x80000 could be anything's; a squashfs at the rofs offset or a valid environment confirms.
    if (!rofs_ok && !env_ok) return std::nullopt;
    l.confident = fit_ok && rofs_ok && !bad;
  } else {
    if (!ubi_named && !env_ok) return std::nullopt;
    l.confident = ubi_named && !bad;
  }
  return l;
}

std::optional<Layout> recognise_any(ByteView flash, Kind kind) {
  for (uint64_t k : {uint64_t{0x80000}, uint64_t{0x100000}})
    if (auto l = recognise(flash, kind, k)) return l;
  return std::nullopt;
}

}  // namespace fwcert::openbmc

namespace fwcert {
namespace {

std::optional<Hit> validate_layout(const ValidateInput& in, openbmc::Kind kind) {
  if (!in.signature) return std::nullopt;
  // The signature's magic is the FIT or UBI header at the kernel offset; `at` says which flash size family.
  const ByteView flash = in.image.tail(in.start);
  auto l = openbmc::recognise(flash, kind, in.signature->at);
  if (!l) return std::nullopt;
  Hit hit;
  hit.offset = flash.base();
  hit.size = std::min<uint64_t>(l->flash_size, flash.size());
  hit.type = kind == openbmc::Kind::Static ? "openbmc-static" : "openbmc-ubi";
  hit.nesting = Nesting::Container;  // the FIT, squashfs and JFFS2 inside are listed too
  hit.confidence = l->confident ? Confidence::High : Confidence::Medium;
  hit.diagnostics = l->diagnostics;
  std::string list;
  for (const auto& p : l->partitions) {
    if (!list.empty()) list += "; ";
    list += p.name + " " + hex(p.offset) + "+" + hex(p.size) + " (" + p.content + (p.truncated ? ", truncated" : "") + ")";
  }
  hit.description = std::string(kind == openbmc::Kind::Static ? "OpenBMC static flash layout" : "OpenBMC UBI flash layout") +
                    ", " + std::to_string(l->flash_size >> 20) + " MiB: " + list;
  if (!l->volumes.empty()) {
    hit.description += ", volumes:";
    for (size_t i = 0; i < l->volumes.size(); ++i) hit.description += (i ? ", " : " ") + l->volumes[i];
  }
  return hit;
}

ExtractResult read_layout(ByteView region, Budget& budget, openbmc::Kind kind) {
  ExtractResult r;
  auto l = openbmc::recognise_any(region, kind);
  if (!l) {
    r.diagnostics.push_back({region.base(), Severity::Error, "openbmc: the flash layout is not recognised here"});
    return r;
  }
  r.diagnostics = l->diagnostics;
  for (const auto& p : l->partitions) {
    if (!budget.take_entry()) {
      r.limited = true;
      r.diagnostics.push_back({region.base(), Severity::Warning, "openbmc: entry limit reached"});
      break;
    }
    Entry e;
    e.path = p.name;
    e.kind = EntryKind::File;
    e.mode = 0100644;
    e.view = region.clamp(p.offset, p.used);
    e.size = e.view.size();
    e.complete = !p.truncated;
    if (p.erased) e.diagnostics.push_back({region.base() + p.offset, Severity::Info, "partition erased (all 0xFF)"});
    if (p.damaged)
      e.diagnostics.push_back({region.base() + p.offset, Severity::Warning,
                               "partition does not hold what the layout puts there (" + p.content +
                                   "); extracted as it is"});
    r.entries.push_back(std::move(e));
  }
  return r;
}

std::optional<Hit> validate_openbmc_static(const ValidateInput& in) {
  return validate_layout(in, openbmc::Kind::Static);
}
std::optional<Hit> validate_openbmc_ubi(const ValidateInput& in) { return validate_layout(in, openbmc::Kind::Ubi); }

}  // namespace

ExtractResult read_openbmc_static(ByteView region, Budget& budget, const ContainerReadOptions&) {
  return read_layout(region, budget, openbmc::Kind::Static);
}

ExtractResult read_openbmc_ubi(ByteView region, Budget& budget, const ContainerReadOptions&) {
  return read_layout(region, budget, openbmc::Kind::Ubi);
}

void register_openbmc_validators(ValidatorRegistry& registry) {
  registry.add("openbmc-static",
               "OpenBMC static flash layout (32/64/128 MiB): FIT kernel, squashfs rofs, U-Boot environment CRC, rwfs",
               validate_openbmc_static);
  registry.add("openbmc-ubi", "OpenBMC UBI flash layout: U-Boot environment CRC, UBI volume table names",
               validate_openbmc_ubi);
}

}  // namespace fwcert
