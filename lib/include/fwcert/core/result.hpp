// A small expected-like result for parsing untrusted data: parsers return one of these instead of throwing.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace fwcert {

// What went wrong and where (an absolute offset in the image, when one applies).
struct Error {
  uint64_t offset = 0;
  std::string message;
};

template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}      // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

inline Error make_error(uint64_t offset, std::string message) { return Error{offset, std::move(message)}; }

}  // namespace fwcert
