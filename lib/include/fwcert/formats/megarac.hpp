// AMI MegaRAC (SP, SPX) flash images: the firmware module headers ("$MODULE$", FMH) that name and place every module
// of the flash (boot loader, kernel, root file system, configuration, web pages, firmware information), the walk's
// validator and the container reader whose members are the modules by name.
//
// Structures, from AMI's own fmh.h as published in vendor GPL drops (e.g. U-Boot vendors/ami/fmh/fmh.h, FMH 1.5-1.7;
// struct FMH, struct MODULE_INFO, struct ALT_FMH, the MODULE_* type and flag values) and fmh.c (ScanforFMH,
// CheckForNormalFMH, CheckForAlternateFMH, ListFMH: how a flash is scanned and a module located and checked), and from
// a public Python rewrite of AMI's image builder (fmh.py build_image/dump_image: FMH_Location, the firmware-info
// module at the last erase block and its whole-image CRC). All fields little endian:
//
//   FMH (64 bytes)                                  MODULE_INFO (at FMH +24, 38 bytes)
//   +0  char  Signature[8]   "$MODULE$"             +24 char  Module_Name[8]   NUL padded, lower case
//   +8  u8    Ver_Major, +9 u8 Ver_Minor (1.x)      +32 u8    Module_Ver_Major, +33 Module_Ver_Minor
//   +10 u16   FMH_Size (64)                         +34 u16   Module_Type (LSB kind, MSB format)
//   +12 u32   AllocatedSize (FMH + module + pad)    +36 u32   Module_Location (from the erase block start)
//   +16 u32   FMH_Location (flash offset of FMH)    +40 u32   Module_Size
//   +20 u8    Reserved[3]                           +44 u16   Module_Flags (0x100: checksum valid; bits 5-7
//   +23 u8    Header_Checksum: the 64 bytes sum               compression 0 none, 1 miniLZO, 2 gzip)
//             to 0 mod 256                          +46 u32   Module_Load_Address
//   +62 u16   End_Signature 0x55AA                  +50 u32   Module_Checksum: CRC-32 (zlib) of the module data
//                                                   +54 u8    Ver_Aux[2], Reserved[6]
//   ALT_FMH (16 bytes, at the end of the first erase block of a module whose data starts at the block, e.g. the boot
//   loader): +0 u16 End_Signature 0x55AA, +2 u8 Header_Checksum, +3 u8 reserved, +4 u32 Link_Address (FMH offset
//   from the erase block start), +8 char Signature[8].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fwcert/core/bytes.hpp"
#include "fwcert/extract/containers.hpp"
#include "fwcert/scan/hit.hpp"

namespace fwcert::megarac {

inline constexpr uint64_t kFmhSize = 64;
inline constexpr uint64_t kAltFmhSize = 16;
inline constexpr uint64_t kEraseBlock = 0x10000;  // AMI's tools locate modules in 64 KiB erase blocks
inline constexpr uint16_t kFlagChecksum = 0x0100;
inline constexpr size_t kMaxModules = 128;

struct Module {
  uint64_t fmh_at = 0;      // index of the FMH in the view the table was read from
  uint64_t block_at = 0;    // erase block start the module's location counts from
  uint64_t data_at = 0;     // index of the module data
  uint32_t allocated = 0, fmh_location = 0, location = 0, size = 0, load = 0, checksum = 0;
  uint16_t type = 0, flags = 0;
  uint8_t fmh_major = 0, fmh_minor = 0, major = 0, minor = 0;
  std::string name;         // raw name (printable, up to 8 characters)
  bool header_ok = false;   // header checksum sums to 0
  bool via_alt = false;     // found through an ALT_FMH link
  bool truncated = false;   // data runs past the input
  enum class Check { NotChecked, Ok, Bad } crc = Check::NotChecked;
  uint32_t computed = 0;    // CRC-32 computed over the data (when checked)
  bool firmware_info = false;  // type MODULE_FMH_FIRMWARE (0x02 / 0x0202): text FW_VERSION=... at the data
  unsigned compression() const { return (flags >> 5) & 7; }
  std::string kind() const;   // "boot loader", "JFFS2 file system", ...
};

struct Table {
  uint64_t origin = 0;  // index of flash offset 0 in the view
  uint64_t end = 0;     // index just past the last allocation (clamped to the view)
  std::vector<Module> modules;  // by FMH position
  std::vector<Diagnostic> diagnostics;  // absolute offsets
  std::string fw_version;  // FW_VERSION of the firmware-info module, when present
};

// A plausible FMH at v[pos]: signature, end signature and header size (the header checksum may fail: reported).
bool plausible_fmh(ByteView v, uint64_t pos);

// The module table of the flash whose FMH is at v[fmh_at]: the flash origin from that header's FMH_Location, then
// every FMH found from there (at 4 KiB steps, and through ALT_FMH links at the ends of 64 KiB blocks), each module's
// CRC-32 checked where its flags ask for it. Empty when v[fmh_at] holds no plausible FMH.
Table read_table(ByteView v, uint64_t fmh_at);

// Whether the module that read_megarac(region) names `member` holds a CramFS by its header's type (format byte 0x10,
// or MODULE_INITRD_CRAMFS): where the tree tries to recover a CramFS whose superblock is damaged.
bool holds_cramfs(ByteView region, const std::string& member);

}  // namespace fwcert::megarac

namespace fwcert {

// The modules of a MegaRAC flash as members named by the table ("boot", "conf", "root", "www"...; a repeated name gets
// "-2", "-3"...), each the module's data as the header places it; bytes of the flash that no module covers and that
// are not erased become members "gap@0xOFFSET". A module whose CRC-32 fails is still a member, with a diagnostic.
// `region` starts at the flash origin (the walk's hit).
ExtractResult read_megarac(ByteView region, Budget& budget, const ContainerReadOptions& options = {});

}  // namespace fwcert
