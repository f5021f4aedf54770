// UBI (Unsorted Block Images) on-flash structures, the walk's validator and the reader that rebuilds each volume
// from its logical eraseblocks. Facts from Linux drivers/mtd/ubi/ubi-media.h (struct ubi_ec_hdr, struct ubi_vid_hdr,
// struct ubi_vtbl_record, UBI_LAYOUT_VOLUME_ID, UBI_CRC32_INIT) and drivers/mtd/ubi/attach.c (ubi_compare_lebs:
// which of two PEBs holding the same LEB is current).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fwcert/core/bytes.hpp"
#include "fwcert/extract/containers.hpp"

namespace fwcert::ubi {

inline constexpr uint64_t kHeaderSize = 64;  // both ubi_ec_hdr and ubi_vid_hdr
inline constexpr uint64_t kCrcLen = 60;      // hdr_crc covers everything before it
inline constexpr uint32_t kLayoutVolume = 0x7FFFEFFF;  // UBI_LAYOUT_VOLUME_ID: holds the volume table
inline constexpr uint64_t kMaxPebs = 1u << 20;
inline constexpr uint64_t kMaxPeb = 16u << 20;
inline constexpr uint32_t kMaxVolumes = 128;  // UBI_MAX_VOLUMES
inline constexpr uint64_t kVtblRecordSize = 172;
inline constexpr uint8_t kDynamic = 1, kStatic = 2;  // UBI_VID_DYNAMIC, UBI_VID_STATIC

// crc32_le(UBI_CRC32_INIT = 0xFFFFFFFF, p, len), no final inversion: the header, volume table and data CRCs.
uint32_t crc(ByteView v);

struct EcHeader {
  uint64_t ec = 0;
  uint32_t vid_hdr_offset = 0, data_offset = 0, image_seq = 0;
  bool crc_ok = false;
  uint32_t stored_crc = 0, computed_crc = 0;
};
// struct ubi_ec_hdr at v[pos]; nullopt when the magic, version or a fixed field rules it out.
std::optional<EcHeader> parse_ec(ByteView v, uint64_t pos);

struct VidHeader {
  uint8_t vol_type = 0, copy_flag = 0, compat = 0;
  uint32_t vol_id = 0, lnum = 0;
  uint32_t data_size = 0, used_ebs = 0, data_pad = 0, data_crc = 0;
  uint64_t sqnum = 0;
  bool crc_ok = false;
  uint32_t stored_crc = 0, computed_crc = 0;
};
// struct ubi_vid_hdr at v[pos].
std::optional<VidHeader> parse_vid(ByteView v, uint64_t pos);

struct VtblRecord {
  uint32_t vol_id = 0;  // the record's index in the table
  uint32_t reserved_pebs = 0, alignment = 0, data_pad = 0;
  uint8_t vol_type = 0, upd_marker = 0, flags = 0;
  std::string name;  // raw bytes (untrusted)
};
// The records in use of a volume table (struct ubi_vtbl_record, CRC over the first 168 bytes each) found in `leb`;
// records with a bad CRC are skipped and counted in `bad`.
std::vector<VtblRecord> parse_vtbl(ByteView leb, uint64_t* bad = nullptr);

}  // namespace fwcert::ubi

namespace fwcert {

// The volumes of a UBI image, named by the volume table ("rofs", "rwfs"; "vol<id>" when unnamed), each volume's bytes
// rebuilt from its LEBs in order: for each LEB the current PEB (highest sequence number; a copy whose data CRC fails
// loses to the older one), static volumes cut to data_size and checked against data_crc, dynamic volumes LEB-sized
// with unmapped LEBs as erased flash (0xFF). A dynamic volume that does not hold UBIFS has its trailing 0xFF trimmed;
// UBIFS volumes keep whole LEBs (UBIFS addresses its nodes by LEB number and offset). With options.visit, volumes are
// streamed (see MemberVisitor).
ExtractResult read_ubi(ByteView image, Budget& budget, const ContainerReadOptions& options = {});

}  // namespace fwcert
