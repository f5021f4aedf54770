#include "fwcert/extract/containers.hpp"

#include "fwcert/formats/ext.hpp"
#include "fwcert/formats/cramfs.hpp"
#include "fwcert/formats/megarac.hpp"
#include "fwcert/formats/openbmc.hpp"
#include "fwcert/formats/squashfs.hpp"
#include "fwcert/formats/jffs2.hpp"
#include "fwcert/formats/ubi.hpp"
#include "fwcert/formats/ubifs.hpp"

namespace fwcert {
namespace {

// Without a superblock (a "cramfs-root" hit of the walk), the tree is recovered from its root directory.
ExtractResult cramfs(ByteView r, Budget& b, const ContainerReadOptions& o) {
  const bool superblock = cramfs::read_superblock(r, 0) || (r.size() > 512 && cramfs::read_superblock(r, 512));
  return superblock ? read_cramfs(r, b, o) : recover_cramfs(r, b, o);
}
// By version: 2.x/3.x (either order) -> formats/squashfs3.cpp, 4.0 little-endian -> libsquashfs.
ExtractResult squashfs(ByteView r, Budget& b, const ContainerReadOptions& o) { return read_squashfs_any(r, b, o.visit); }
ExtractResult archive(ByteView r, Budget& b, const ContainerReadOptions& o) { return read_archive(r, b, o.visit); }

// One row per container type. Filesystems first; then what libarchive reads.
constexpr ContainerFormat kContainers[] = {
    {"cramfs", true, cramfs},
    {"squashfs", true, squashfs},
    {"ext", true, ext::read_ext},
    {"jffs2", true, read_jffs2},
    {"ubi", false, read_ubi},  // members: the volumes by name ("rofs")
    {"ubifs", true, read_ubifs},
    {"zip", false, archive},
    {"jar", false, archive},
    {"tar", false, archive},
    {"cpio", false, archive},
    {"7z", false, archive},
    {"ar", false, archive},
    {"iso9660", false, archive},
    // Flash layouts: members are the partitions by name ("root", "rofs"), which the tree then walks.
    {"megarac", false, read_megarac},
    {"openbmc-static", false, read_openbmc_static},
    {"openbmc-ubi", false, read_openbmc_ubi},
};

}  // namespace

const ContainerFormat* find_container(std::string_view type) {
  for (const auto& c : kContainers)
    if (c.type == type) return &c;
  return nullptr;
}

}  // namespace fwcert
