// Bounds-checked views over untrusted bytes. Every read goes through ByteView::contains(), the one bounds formula.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace fwcert {

// A span of bytes plus the absolute offset of its first byte in the image it came from.
class ByteView {
 public:
  ByteView() = default;
  ByteView(const uint8_t* data, size_t size, uint64_t base = 0) : data_(data), size_(size), base_(base) {}
  explicit ByteView(std::string_view s, uint64_t base = 0)
      : data_(reinterpret_cast<const uint8_t*>(s.data())), size_(s.size()), base_(base) {}

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Absolute offset of data()[0] in the outermost image.
  uint64_t base() const { return base_; }

  // The single bounds check: is [off, off+len) inside the view? Written so it cannot overflow.
  bool contains(uint64_t off, uint64_t len) const { return off <= size_ && len <= size_ - off; }

  std::optional<ByteView> sub(uint64_t off, uint64_t len) const {
    if (!contains(off, len)) return std::nullopt;
    return ByteView(data_ + off, static_cast<size_t>(len), base_ + off);
  }
  // Everything from off to the end (empty when off is past the end).
  ByteView tail(uint64_t off) const {
    if (off > size_) return ByteView(data_ + size_, 0, base_ + size_);
    return ByteView(data_ + off, size_ - static_cast<size_t>(off), base_ + off);
  }
  // At most len bytes from off (clamped to the view).
  ByteView clamp(uint64_t off, uint64_t len) const {
    ByteView t = tail(off);
    return ByteView(t.data_, len < t.size_ ? static_cast<size_t>(len) : t.size_, t.base_);
  }

  std::optional<uint8_t> u8(uint64_t off) const {
    if (!contains(off, 1)) return std::nullopt;
    return data_[off];
  }
  std::optional<uint16_t> u16le(uint64_t off) const { return read_le<uint16_t>(off); }
  std::optional<uint16_t> u16be(uint64_t off) const { return read_be<uint16_t>(off); }
  std::optional<uint32_t> u32le(uint64_t off) const { return read_le<uint32_t>(off); }
  std::optional<uint32_t> u32be(uint64_t off) const { return read_be<uint32_t>(off); }
  std::optional<uint64_t> u64le(uint64_t off) const { return read_le<uint64_t>(off); }
  std::optional<uint64_t> u64be(uint64_t off) const { return read_be<uint64_t>(off); }
  std::optional<uint16_t> u16(uint64_t off, bool big_endian) const { return big_endian ? u16be(off) : u16le(off); }
  std::optional<uint32_t> u32(uint64_t off, bool big_endian) const { return big_endian ? u32be(off) : u32le(off); }
  std::optional<uint64_t> u64(uint64_t off, bool big_endian) const { return big_endian ? u64be(off) : u64le(off); }

  // Does the view hold exactly these bytes at off?
  bool matches(uint64_t off, std::string_view bytes) const {
    return contains(off, bytes.size()) && std::memcmp(data_ + off, bytes.data(), bytes.size()) == 0;
  }
  // Bytes [off, off+len) as text; nullopt when out of bounds.
  std::optional<std::string_view> str(uint64_t off, uint64_t len) const {
    if (!contains(off, len)) return std::nullopt;
    return std::string_view(reinterpret_cast<const char*>(data_ + off), static_cast<size_t>(len));
  }
  // A NUL-terminated string of at most max_len bytes starting at off (clamped to the view).
  std::string cstring(uint64_t off, size_t max_len) const {
    ByteView v = clamp(off, max_len);
    const void* nul = std::memchr(v.data_, 0, v.size_);
    size_t n = nul ? static_cast<size_t>(static_cast<const uint8_t*>(nul) - v.data_) : v.size_;
    return std::string(reinterpret_cast<const char*>(v.data_), n);
  }
  std::string_view as_string_view() const { return {reinterpret_cast<const char*>(data_), size_}; }

 private:
  template <class T>
  std::optional<T> read_le(uint64_t off) const {
    if (!contains(off, sizeof(T))) return std::nullopt;
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>(v | (static_cast<T>(data_[off + i]) << (8 * i)));
    return v;
  }
  template <class T>
  std::optional<T> read_be(uint64_t off) const {
    if (!contains(off, sizeof(T))) return std::nullopt;
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | static_cast<T>(data_[off + i]));
    return v;
  }

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  uint64_t base_ = 0;
};

// A cursor over a ByteView for sequential parsing. A failed read returns nullopt and leaves the cursor where it was.
class Reader {
 public:
  explicit Reader(ByteView view, uint64_t pos = 0, bool big_endian = false)
      : view_(view), pos_(pos), big_endian_(big_endian) {}

  uint64_t pos() const { return pos_; }
  // Absolute offset (in the image) of the cursor.
  uint64_t abs_pos() const { return view_.base() + pos_; }
  uint64_t remaining() const { return pos_ <= view_.size() ? view_.size() - pos_ : 0; }
  const ByteView& view() const { return view_; }
  bool seek(uint64_t pos) {
    if (pos > view_.size()) return false;
    pos_ = pos;
    return true;
  }
  bool skip(uint64_t n) {
    if (!view_.contains(pos_, n)) return false;
    pos_ += n;
    return true;
  }
  bool align(uint64_t a) {
    uint64_t r = pos_ % a;
    return r == 0 || skip(a - r);
  }

  std::optional<uint8_t> u8() { return take<uint8_t>(view_.u8(pos_), 1); }
  std::optional<uint16_t> u16() { return take<uint16_t>(view_.u16(pos_, big_endian_), 2); }
  std::optional<uint32_t> u32() { return take<uint32_t>(view_.u32(pos_, big_endian_), 4); }
  std::optional<uint64_t> u64() { return take<uint64_t>(view_.u64(pos_, big_endian_), 8); }
  std::optional<uint16_t> u16le() { return take<uint16_t>(view_.u16le(pos_), 2); }
  std::optional<uint16_t> u16be() { return take<uint16_t>(view_.u16be(pos_), 2); }
  std::optional<uint32_t> u32le() { return take<uint32_t>(view_.u32le(pos_), 4); }
  std::optional<uint32_t> u32be() { return take<uint32_t>(view_.u32be(pos_), 4); }
  std::optional<uint64_t> u64le() { return take<uint64_t>(view_.u64le(pos_), 8); }
  std::optional<uint64_t> u64be() { return take<uint64_t>(view_.u64be(pos_), 8); }
  std::optional<ByteView> bytes(uint64_t n) {
    auto v = view_.sub(pos_, n);
    if (v) pos_ += n;
    return v;
  }

 private:
  template <class T>
  std::optional<T> take(std::optional<T> v, uint64_t n) {
    if (v) pos_ += n;
    return v;
  }

  ByteView view_;
  uint64_t pos_;
  bool big_endian_;
};

}  // namespace fwcert
