// DER/BER TLV reader and the cheap X.509 structural test (FORMATS.md 6.3). Everything reads through ByteView, so a
// length that points past the buffer is simply "does not fit".
#include "fwcert/formats/der.hpp"

#include <cstring>

namespace fwcert {
namespace der {

namespace {

constexpr int kMaxDepth = 32;
constexpr int64_t kMaxWellFormedNodes = 100000;
constexpr int64_t kMaxBerNodes = 200000;

// High-tag-number form (low five bits all set) is never used by the structures we look for; tag 0 is the BER
// end-of-contents marker, never an element.
bool plain_tag(uint8_t tag) { return tag != 0 && (tag & 0x1f) != 0x1f; }

}  // namespace

namespace {

// One header reader for both rule sets: DER (minimal lengths of at most 4 bytes, no indefinite length) and BER
// (indefinite length on constructed encodings, non-minimal lengths of up to 8 bytes).
std::optional<Header> read_header_with(ByteView view, uint64_t off, bool ber) {
  auto tag = view.u8(off);
  auto l0 = view.u8(off + 1);
  if (!tag || !l0 || !plain_tag(*tag)) return std::nullopt;
  Header h;
  h.tag = *tag;
  if (*l0 < 0x80) {
    h.header_size = 2;
    h.length = *l0;
    return h;
  }
  if (*l0 == 0x80) {
    // Indefinite length: not DER; in BER for constructed encodings only.
    if (!ber || !(*tag & kConstructedBit)) return std::nullopt;
    h.header_size = 2;
    h.indefinite = true;
    return h;
  }
  const unsigned n = *l0 & 0x7fu;
  if (n > (ber ? 8u : 4u)) return std::nullopt;  // > 4 GiB never is a certificate
  uint64_t len = 0;
  for (unsigned i = 0; i < n; ++i) {
    auto b = view.u8(off + 2 + i);
    if (!b) return std::nullopt;
    if (!ber && i == 0 && *b == 0) return std::nullopt;  // leading zero: not minimal
    len = (len << 8) | *b;
  }
  if (!ber && len < 0x80) return std::nullopt;  // long form for a length that fits the short form: not minimal
  h.header_size = 2 + n;
  h.length = len;
  return h;
}

}  // namespace

std::optional<Header> read_header(ByteView view, uint64_t off) { return read_header_with(view, off, false); }

std::optional<Tlv> read_tlv(ByteView view, uint64_t off) {
  auto h = read_header(view, off);
  if (!h) return std::nullopt;
  auto content = view.sub(off + h->header_size, h->length);
  if (!content) return std::nullopt;
  Tlv t;
  t.tag = h->tag;
  t.offset = off;
  t.header_size = h->header_size;
  t.content = *content;
  return t;
}

std::optional<Tlv> read_tlv(ByteView view, uint64_t off, uint8_t tag) {
  auto h = view.u8(off);
  if (!h || *h != tag) return std::nullopt;
  return read_tlv(view, off);
}

std::optional<Tlv> Children::next() {
  if (failed_ || at_end()) return std::nullopt;
  auto t = read_tlv(content_, pos_);
  if (!t) {
    failed_ = true;
    return std::nullopt;
  }
  pos_ = t->end();
  return t;
}

std::optional<Tlv> Children::next(uint8_t tag) {
  if (failed_) return std::nullopt;
  auto p = peek_tag();
  if (!p || *p != tag) {
    failed_ = true;
    return std::nullopt;
  }
  return next();
}

std::optional<Tlv> Children::next_if(uint8_t tag) {
  if (failed_) return std::nullopt;
  auto p = peek_tag();
  if (!p || *p != tag) return std::nullopt;
  return next();
}

bool minimal_integer(ByteView c) {
  if (c.empty()) return false;
  if (c.size() == 1) return true;
  const uint8_t b0 = c.data()[0], b1 = c.data()[1];
  if (b0 == 0x00 && b1 < 0x80) return false;
  if (b0 == 0xff && b1 >= 0x80) return false;
  return true;
}

std::optional<int64_t> small_integer(ByteView c) {
  if (!minimal_integer(c) || c.size() > 8) return std::nullopt;
  // Sign-extend from the first byte, then shift in the rest.
  uint64_t v = (c.data()[0] & 0x80) ? ~uint64_t{0} : 0;
  for (size_t i = 0; i < c.size(); ++i) v = (v << 8) | c.data()[i];
  return static_cast<int64_t>(v);
}

bool same_bytes(const Tlv& a, const Tlv& b) {
  return a.tag == b.tag && a.header_size == b.header_size && a.content.size() == b.content.size() &&
         std::memcmp(a.content.data(), b.content.data(), a.content.size()) == 0;
}

namespace {

bool well_formed_content(ByteView content, int depth, int64_t& budget) {
  if (depth > kMaxDepth) return false;
  Children c(content);
  while (!c.at_end()) {
    if (--budget < 0) return false;
    auto t = c.next();
    if (!t) return false;
    if (t->constructed() && !well_formed_content(t->content, depth + 1, budget)) return false;
  }
  return true;
}

}  // namespace

bool well_formed(ByteView view, uint8_t tag) {
  auto t = read_tlv(view, 0);
  if (!t || t->size() != view.size()) return false;
  if (tag != 0 && t->tag != tag) return false;
  int64_t budget = kMaxWellFormedNodes;
  return !t->constructed() || well_formed_content(t->content, 1, budget);
}

std::string oid_text(ByteView c) {
  if (c.empty() || c.size() > 64) return {};
  std::string out;
  uint64_t arc = 0;
  bool first = true, fresh = true;
  for (size_t i = 0; i < c.size(); ++i) {
    const uint8_t b = c.data()[i];
    if (fresh && b == 0x80) return {};  // non-minimal arc
    fresh = false;
    if (arc > (uint64_t{1} << 56)) return {};
    arc = (arc << 7) | (b & 0x7fu);
    if (b & 0x80) continue;
    if (first) {
      const uint64_t top = arc < 40 ? 0 : arc < 80 ? 1 : 2;
      // Appended piecewise: GCC 12 -O3 gives a false -Wrestrict on chained std::string operator+.
      out = std::to_string(top);
      out += '.';
      out += std::to_string(arc - 40 * top);
      first = false;
    } else {
      out += '.';
      out += std::to_string(arc);
    }
    arc = 0;
    fresh = true;
  }
  if (!fresh) return {};  // the last arc was cut off
  return out;
}

std::optional<Header> read_ber_header(ByteView view, uint64_t off) { return read_header_with(view, off, true); }

namespace {

std::optional<uint64_t> ber_size_at(ByteView view, uint64_t off, int depth, int64_t& budget) {
  if (--budget < 0 || depth > kMaxDepth) return std::nullopt;
  auto h = read_ber_header(view, off);
  if (!h) return std::nullopt;
  if (!h->indefinite) {
    if (!view.contains(off + h->header_size, h->length)) return std::nullopt;
    return h->header_size + h->length;
  }
  uint64_t pos = off + h->header_size;
  for (;;) {
    if (view.matches(pos, std::string_view("\0\0", 2))) return pos + 2 - off;
    auto child = ber_size_at(view, pos, depth + 1, budget);
    if (!child) return std::nullopt;
    pos += *child;
  }
}

}  // namespace

std::optional<uint64_t> ber_element_size(ByteView view, uint64_t off) {
  int64_t budget = kMaxBerNodes;
  return ber_size_at(view, off, 0, budget);
}

}  // namespace der

namespace {

using der::Children;
using der::Tlv;

// AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }
bool algorithm_identifier(const Tlv& t) {
  Children c(t.content);
  auto oid = c.next(der::kOid);
  if (!oid || der::oid_text(oid->content).empty()) return false;
  if (!c.at_end()) c.next();  // parameters: any one element
  return c.done_ok();
}

// Name ::= SEQUENCE OF RelativeDistinguishedName (SET); may be empty.
bool name(const Tlv& t) {
  Children c(t.content);
  while (!c.at_end())
    if (!c.next(der::kSet)) return false;
  return true;
}

bool time_value(const std::optional<Tlv>& t) {
  return t && (t->tag == der::kUtcTime || t->tag == der::kGeneralizedTime) && t->content.size() >= 10 &&
         t->content.size() <= 24;
}

// BIT STRING: at least the unused-bits byte, which is 0..7.
bool bit_string(const Tlv& t) { return !t.content.empty() && t.content.data()[0] <= 7; }

}  // namespace

std::optional<size_t> der_certificate_size(ByteView view) {
  auto cert = der::read_tlv(view, 0, der::kSequence);
  if (!cert) return std::nullopt;
  Children outer(cert->content);
  auto tbs = outer.next(der::kSequence);
  auto sig_alg = outer.next(der::kSequence);
  auto sig = outer.next(der::kBitString);
  if (!tbs || !sig_alg || !sig || !outer.done_ok() || !bit_string(*sig)) return std::nullopt;

  Children t(tbs->content);
  int64_t version = 0;
  if (auto v = t.next_if(der::context(0, true))) {
    Children vc(v->content);
    auto i = vc.next(der::kInteger);
    if (!i || !vc.done_ok()) return std::nullopt;
    auto value = der::small_integer(i->content);
    // RFC 5280 allows 0..2 (v1..v3). Value 3 ("v4") is invalid but occurs in real device certificates (houseofkeys:
    // Linksys RVS4000 and others) and OpenSSL parses it, so it is accepted here; callers may warn about it.
    if (!value || *value < 0 || *value > 3) return std::nullopt;
    version = *value;
  }
  auto serial = t.next(der::kInteger);
  if (!serial || !der::minimal_integer(serial->content)) return std::nullopt;
  auto alg = t.next(der::kSequence);
  auto issuer = t.next(der::kSequence);
  auto validity = t.next(der::kSequence);
  auto subject = t.next(der::kSequence);
  auto spki = t.next(der::kSequence);
  if (!spki) return std::nullopt;  // any earlier miss makes every later next() fail too
  if (!algorithm_identifier(*alg) || !name(*issuer) || !name(*subject)) return std::nullopt;
  {
    Children vc(validity->content);
    auto not_before = vc.next();
    auto not_after = vc.next();
    if (!time_value(not_before) || !time_value(not_after) || !vc.done_ok()) return std::nullopt;
  }
  {
    Children sc(spki->content);
    auto key_alg = sc.next(der::kSequence);
    auto key = sc.next(der::kBitString);
    if (!key || !sc.done_ok() || !algorithm_identifier(*key_alg) || !bit_string(*key)) return std::nullopt;
  }
  // issuerUniqueID [1] / subjectUniqueID [2] (v2+), extensions [3] (v3).
  for (uint8_t n : {uint8_t{1}, uint8_t{2}}) {
    if (t.next_if(der::context(n, false)) || t.next_if(der::context(n, true))) {
      if (version < 1) return std::nullopt;
    }
  }
  if (t.next_if(der::context(3, true)) && version < 2) return std::nullopt;
  if (!t.done_ok()) return std::nullopt;

  if (!der::same_bytes(*alg, *sig_alg)) return std::nullopt;
  return static_cast<size_t>(cert->size());
}

}  // namespace fwcert
