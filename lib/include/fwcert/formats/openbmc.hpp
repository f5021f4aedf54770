// OpenBMC flash layouts: the static MTD layout (u-boot, u-boot-env, kernel FIT, rofs squashfs, rwfs JFFS2) and the
// UBI layout (u-boot, u-boot-env, then one UBI image "obmc-ubi" holding the volumes kernel-<version>,
// rofs-<version>, rwfs). Neither has a header of its own: a layout is recognised by what lies at its fixed offsets.
//
// Offsets and sizes, from the public sources that define them:
//   - meta-phosphor/classes/image_types_phosphor.bbclass (FLASH_UBOOT_OFFSET 0, FLASH_UBOOT_ENV_OFFSET 384 KiB
//     (896 KiB on 64/128 MiB flashes), FLASH_KERNEL_OFFSET 512 KiB (1 MiB), FLASH_ROFS_OFFSET 4864 KiB (10 MiB),
//     FLASH_RWFS_OFFSET 28 MiB (42 MiB on 64 MiB, 96 MiB on 128 MiB), FLASH_UBI_OFFSET = FLASH_KERNEL_OFFSET;
//     do_generate_static: u-boot, FLASH_KERNEL_IMAGE (a FIT), the squashfs rofs and the JFFS2 rwfs dd'ed at those
//     offsets into an 0xFF-filled flash; do_make_ubi: volumes kernel-${VERSION_ID}, rofs-${VERSION_ID} (static) and
//     rwfs (dynamic), ubinize -p 64KiB);
//   - Linux arch/arm/boot/dts/openbmc-flash-layout.dtsi and aspeed/openbmc-flash-layout-64.dtsi, -128.dtsi (the same
//     partitions with their labels), and the IBM/Facebook board dts files with the "obmc-ubi" partition at 0x80000.
// The UBI volume table is read from struct ubi_ec_hdr, struct ubi_vid_hdr and struct ubi_vtbl_record (Linux
// drivers/mtd/ubi/ubi-media.h; UBI_LAYOUT_VOLUME_ID 0x7FFFEFFF), only for the volume names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fwcert/core/bytes.hpp"
#include "fwcert/extract/containers.hpp"
#include "fwcert/scan/hit.hpp"

namespace fwcert::openbmc {

enum class Kind { Static, Ubi };

struct Partition {
  std::string name;             // the dts label: u-boot, u-boot-env, kernel, rofs, rwfs, obmc-ubi
  uint64_t offset = 0, size = 0;  // in the flash (the layout's start is 0)
  std::string content;          // what was found there: "FIT, 3 images", "squashfs 4.0", "erased", ...
  bool erased = false;          // all 0xFF
  bool truncated = false;       // the input ends inside it
  bool damaged = false;         // not what the layout puts there (a diagnostic says why)
  uint64_t used = 0;            // bytes up to the last programmed (non-0xFF) byte
};

struct Layout {
  Kind kind = Kind::Static;
  uint64_t flash_size = 0;  // 32, 64 or 128 MiB
  std::vector<Partition> partitions;
  std::vector<std::string> volumes;  // UBI layout: "name (static|dynamic)" from the volume table
  std::vector<Diagnostic> diagnostics;
  bool confident = false;  // every partition holds what the layout puts there
};

// The layout whose kernel (static) or UBI image (ubi) sits at `kernel_offset` of `flash` (which starts at the
// layout's offset 0): 0x80000 for 32 MiB flashes, 0x100000 for 64 and 128 MiB. nullopt when the content does not
// show the layout (no FIT or no UBI image there, and neither a squashfs rofs nor a valid environment to confirm).
std::optional<Layout> recognise(ByteView flash, Kind kind, uint64_t kernel_offset);

// recognise() for a region that starts at a layout: tries both kernel offsets.
std::optional<Layout> recognise_any(ByteView flash, Kind kind);

}  // namespace fwcert::openbmc

namespace fwcert {

// The partitions of an OpenBMC flash as members named by their dts labels ("u-boot", "u-boot-env", "kernel", "rofs",
// "rwfs"; "obmc-ubi" for the UBI layout, whose volumes the UBI reader names), each the partition's bytes up to its
// last programmed byte (the erased tail is not extracted). A partition that does not hold what the layout puts there
// is still a member, with a diagnostic.
ExtractResult read_openbmc_static(ByteView region, Budget& budget, const ContainerReadOptions& options = {});
ExtractResult read_openbmc_ubi(ByteView region, Budget& budget, const ContainerReadOptions& options = {});

}  // namespace fwcert
