// Filesystem-family validators: ELF (SquashFS: formats/squashfs.cpp, JFFS2: formats/jffs2.cpp, UBI: formats/ubi.cpp).
//
// References: the System V ABI (ELF).
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
  registry.add("elf", "ELF header, program and section header tables; size = end of the last table or content",
               validate_elf);
}

}  // namespace fwcert
