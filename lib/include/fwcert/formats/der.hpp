// A small bounds-checked DER (and, for PKCS#12, BER) TLV reader over untrusted bytes.
//
// DER rules enforced (FORMATS.md 6.3, after Go's cryptobyte): single-byte tags (no high-tag-number form), length in
// short form (< 0x80) or long form 0x81..0x84 that is minimal (long form only for >= 128, no leading zero byte), no
// indefinite length. The BER functions relax exactly two of these: indefinite length on constructed elements and
// non-minimal lengths, which is what real PKCS#12 files written by NSS and Windows use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "fwcert/core/bytes.hpp"

namespace fwcert {

namespace der {

// Universal tags used by the validators.
inline constexpr uint8_t kInteger = 0x02;
inline constexpr uint8_t kBitString = 0x03;
inline constexpr uint8_t kOctetString = 0x04;
inline constexpr uint8_t kNull = 0x05;
inline constexpr uint8_t kOid = 0x06;
inline constexpr uint8_t kUtcTime = 0x17;
inline constexpr uint8_t kGeneralizedTime = 0x18;
inline constexpr uint8_t kSequence = 0x30;
inline constexpr uint8_t kSet = 0x31;
inline constexpr uint8_t kConstructedBit = 0x20;
// Context-specific tag [n]; constructed (A0 | n) or primitive (80 | n).
inline constexpr uint8_t context(uint8_t n, bool constructed) {
  return static_cast<uint8_t>((constructed ? 0xA0 : 0x80) | n);
}

// Tag and length of an element, without requiring its content to be present (for cheap rejection).
struct Header {
  uint8_t tag = 0;
  uint32_t header_size = 0;  // tag byte + length bytes
  uint64_t length = 0;       // content length (0 when indefinite)
  bool indefinite = false;   // BER only
};

// One element whose content lies inside the view it was read from.
struct Tlv {
  uint8_t tag = 0;
  uint64_t offset = 0;  // index of the tag byte in the view it was read from
  uint32_t header_size = 0;
  ByteView content;  // content bytes; content.base() is absolute
  uint64_t size() const { return header_size + content.size(); }
  uint64_t end() const { return offset + size(); }
  bool constructed() const { return (tag & kConstructedBit) != 0; }
};

// DER header at off (strict rules above); nullopt when malformed or when the header bytes are cut off.
std::optional<Header> read_header(ByteView view, uint64_t off);
// DER element at off whose content fits in the view.
std::optional<Tlv> read_tlv(ByteView view, uint64_t off);
// Same, and the tag must be `tag`.
std::optional<Tlv> read_tlv(ByteView view, uint64_t off, uint8_t tag);

// Walks the children of a constructed element's content in order. A malformed or overlong child, or asking for a
// tag that is not next, sets failed(); a parent is exactly filled when at_end() is true after the last child.
class Children {
 public:
  explicit Children(ByteView content) : content_(content) {}

  // The next child, or nullopt at the end or on a malformed child (then failed() is true).
  std::optional<Tlv> next();
  // The next child if it has this tag; otherwise nullopt and failed().
  std::optional<Tlv> next(uint8_t tag);
  // The next child if it has this tag; otherwise nullopt WITHOUT consuming anything (for OPTIONAL fields).
  std::optional<Tlv> next_if(uint8_t tag);
  // Tag of the next child, if any.
  std::optional<uint8_t> peek_tag() const { return content_.u8(pos_); }

  bool at_end() const { return pos_ == content_.size(); }
  bool failed() const { return failed_; }
  // True when every child parsed and they fill the content exactly.
  bool done_ok() const { return !failed_ && at_end(); }
  uint64_t pos() const { return pos_; }

 private:
  ByteView content_;
  uint64_t pos_ = 0;
  bool failed_ = false;
};

// INTEGER content is non-empty and minimal (no 00 before a byte < 0x80, no FF before a byte >= 0x80).
bool minimal_integer(ByteView content);
// The value of a minimal INTEGER that fits in int64; nullopt otherwise.
std::optional<int64_t> small_integer(ByteView content);
// Bytes of a whole element (header + content) as seen in the view it came from.
bool same_bytes(const Tlv& a, const Tlv& b);

// Is `view` exactly one DER element (of `tag`, when tag != 0) whose constructed parts, recursively, are exactly
// filled by well-formed children? Work is capped (depth 32, 100000 elements); past the caps the answer is false.
bool well_formed(ByteView view, uint8_t tag = 0);

// Dotted text of an OBJECT IDENTIFIER's content ("1.2.840.113549.1.7.1"); empty when malformed.
std::string oid_text(ByteView content);

// BER header: like read_header but also accepts indefinite length (constructed only) and non-minimal long forms
// (up to 8 length bytes).
std::optional<Header> read_ber_header(ByteView view, uint64_t off);
// Total size of the BER element at off, following indefinite-length elements to their end-of-contents (00 00).
// nullopt when malformed, cut off, nested deeper than 32, or more than 200000 elements had to be visited.
std::optional<uint64_t> ber_element_size(ByteView view, uint64_t off);

}  // namespace der

// FORMATS.md 6.3: the cheap structural test for a DER X.509 certificate at the start of `view`. Returns the
// certificate's exact size (outer TLV) when every step passes: outer SEQUENCE fits; tbsCertificate holds optional
// [0] version 0..2 (3 is tolerated: real device certificates carry it), minimal INTEGER serial, AlgorithmIdentifier,
// issuer, validity (two UTCTime/GeneralizedTime), subject, SPKI (AlgorithmIdentifier + BIT STRING), optional [1]/[2]
// unique IDs and [3] extensions, and nothing else; then a signatureAlgorithm byte-identical to the inner one and a
// BIT STRING signature, and nothing else inside the outer SEQUENCE. Bytes after the certificate are allowed (the
// caller decides).
std::optional<size_t> der_certificate_size(ByteView view);

}  // namespace fwcert
