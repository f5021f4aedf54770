// Byte views, readers, results, checksums and time formatting.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <atomic>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "fwcert/core/big_block.hpp"
#include "fwcert/core/bytes.hpp"
#include "fwcert/core/checksum.hpp"
#include "fwcert/core/mapped_file.hpp"
#include "fwcert/core/memo.hpp"
#include "fwcert/scan/validator.hpp"
#include "support.hpp"

using namespace fwcert;

TEST_CASE("ByteView bounds: the one formula holds at the edges and never overflows") {
  const uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  ByteView v(buf, 8, 0x1000);
  CHECK(v.contains(0, 8));
  CHECK(v.contains(8, 0));
  CHECK_FALSE(v.contains(8, 1));
  CHECK_FALSE(v.contains(9, 0));
  CHECK_FALSE(v.contains(1, std::numeric_limits<uint64_t>::max()));
  CHECK_FALSE(v.contains(std::numeric_limits<uint64_t>::max(), 2));
  CHECK(v.u32le(4) == 0x08070605u);
  CHECK(v.u32be(4) == 0x05060708u);
  CHECK_FALSE(v.u32le(5).has_value());
  CHECK_FALSE(v.u64be(1).has_value());
  CHECK(v.u64be(0) == 0x0102030405060708ull);
  auto s = v.sub(2, 4);
  REQUIRE(s);
  CHECK(s->base() == 0x1002);
  CHECK(s->u8(0) == 3);
  CHECK_FALSE(v.sub(6, 3));
  CHECK(v.tail(100).size() == 0);
  CHECK(v.clamp(6, 100).size() == 2);
  CHECK(v.cstring(0, 100) == std::string("\x01\x02\x03\x04\x05\x06\x07\x08"));
}

TEST_CASE("Reader reads in order and a failed read leaves the cursor in place") {
  const uint8_t buf[6] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc};
  Reader r(ByteView(buf, 6), 0, true);
  CHECK(r.u16() == 0x1234);
  CHECK(r.pos() == 2);
  CHECK(r.u32() == 0x56789abcu);
  CHECK_FALSE(r.u8());
  CHECK(r.pos() == 6);
  CHECK_FALSE(r.skip(1));
  CHECK(r.seek(1));
  CHECK(r.u16le() == 0x5634);
  CHECK_FALSE(r.seek(7));
}

TEST_CASE("Result carries either a value or an error") {
  Result<int> good = 5;
  Result<int> bad = make_error(12, "broken");
  CHECK(good.ok());
  CHECK(*good == 5);
  CHECK_FALSE(bad.ok());
  CHECK(bad.error().offset == 12);
  CHECK(bad.error().message == "broken");
}

TEST_CASE("CRC-32 is zlib's, and the zeroed-word variant equals CRC over a copy with zeros") {
  std::string text = "123456789";
  CHECK(crc32(ByteView(text)) == 0xCBF43926u);
  auto data = fwtest::random_bytes(1000, 7);
  auto copy = data;
  for (int i = 0; i < 4; ++i) copy[100 + i] = 0;
  CHECK(crc32_with_zeroed_word(ByteView(data.data(), data.size()), 100) ==
        crc32(ByteView(copy.data(), copy.size())));
}

TEST_CASE("utc_time uses 64-bit civil arithmetic on both sides of the epoch and past 2038") {
  CHECK(utc_time(0) == "1970-01-01 00:00:00");
  CHECK(utc_time(1594976572) == "2020-07-17 09:02:52");
  CHECK(utc_time(2147483648LL) == "2038-01-19 03:14:08");
  CHECK(utc_time(253402300799LL) == "9999-12-31 23:59:59");
  CHECK(utc_time(-1) == "1969-12-31 23:59:59");
}

TEST_CASE("MappedFile reports missing files and directories by name") {
  auto missing = MappedFile::open("/nonexistent/fw.bin");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("/nonexistent/fw.bin") != std::string::npos);
  auto dir = MappedFile::open("/");
  REQUIRE_FALSE(dir);
  CHECK(dir.error().message.find("directory") != std::string::npos);
  auto self = MappedFile::open(fwtest::source_dir() + "/CMakeLists.txt");
  REQUIRE(self);
  CHECK(self->size() > 100);
  CHECK(self->view().matches(0, "cmake_minimum_required"));
}

TEST_CASE("MappedFile survives its file being truncated while mapped: zeros past the new end, and it says so") {
  // Reading a mapped page past the end of a file that shrank raises SIGBUS, which killed the whole process.
  char dir[] = "/tmp/fwcert-trunc-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string path = std::string(dir) + "/victim.bin", other_path = std::string(dir) + "/other.bin";
  const std::vector<uint8_t> bytes(1 << 20, 'A');
  for (const std::string& p : {path, other_path}) {
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
    ::close(fd);
  }
  auto f = MappedFile::open(path, /*prefault=*/false);
  auto other = MappedFile::open(other_path, /*prefault=*/false);
  REQUIRE(f);
  REQUIRE(other);
  const ByteView v = f->view();
  auto at = [](const ByteView& b, size_t i) { return static_cast<const volatile uint8_t*>(b.data())[i]; };
  CHECK(at(v, 100) == 'A');
  CHECK_FALSE(f->truncated_while_read());
  REQUIRE(::truncate(path.c_str(), 4096) == 0);
  CHECK(at(v, 100) == 'A');  // still in the file
  CHECK(at(v, 0x80000) == 0);  // past the new end: zeros, not a fatal signal
  // Any thread: the handler is process-wide.
  std::thread([&] { CHECK(at(v, v.size() - 1) == 0); }).join();
  CHECK(f->truncated_while_read());
  CHECK(at(other->view(), 0x80000) == 'A');
  CHECK_FALSE(other->truncated_while_read());
  ::unlink(path.c_str());
  ::unlink(other_path.c_str());
  ::rmdir(dir);
}

TEST_CASE("MappedFile refuses a FIFO at once, even with no writer (never blocks)") {
  char dir[] = "/tmp/fwcert-fifo-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string fifo = std::string(dir) + "/pipe";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  auto opening = std::async(std::launch::async, [&] { return MappedFile::open(fifo); });
  const bool done = opening.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  if (!done) {  // blocked in open(): a writer releases it, so the test ends either way
    const int w = ::open(fifo.c_str(), O_WRONLY);
    if (w >= 0) ::close(w);
  }
  CHECK(done);
  auto r = opening.get();
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("not a regular file") != std::string::npos);
  ::unlink(fifo.c_str());
  ::rmdir(dir);
}

namespace {

// Sends n bytes (byte i is i % 251) into fd on a thread, then closes it; stops early when the reader has gone.
std::jthread send_pattern(int fd, size_t n) {
  return std::jthread([fd, n] {
    std::vector<uint8_t> chunk(64 << 10);
    for (size_t off = 0; off < n;) {
      const size_t len = std::min(chunk.size(), n - off);
      for (size_t i = 0; i < len; ++i) chunk[i] = static_cast<uint8_t>((off + i) % 251);
      const ssize_t w = ::send(fd, chunk.data(), len, MSG_NOSIGNAL);
      if (w <= 0) break;
      off += static_cast<size_t>(w);
    }
    ::close(fd);
  });
}

}  // namespace

TEST_CASE("MappedFile::read_all holds a stream whole in memory, bounded, and keeps it through a move") {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  const size_t n = (size_t{3} << 20) + 12345;  // past the first 1 MiB buffer, and not a multiple of it
  auto writer = send_pattern(sv[1], n);
  auto r = MappedFile::read_all(sv[0], "-", uint64_t{4} << 20);
  ::close(sv[0]);
  REQUIRE(r);
  MappedFile moved = std::move(*r);
  CHECK(moved.path() == "-");
  REQUIRE(moved.size() == n);
  bool same = true;
  for (size_t i = 0; i < n && same; i += 4093) same = moved.view().data()[i] == static_cast<uint8_t>(i % 251);
  CHECK(same);
  CHECK(moved.view().data()[n - 1] == static_cast<uint8_t>((n - 1) % 251));

  // Exactly at the cap is accepted; one byte more is an Error naming the input, not a truncated buffer.
  for (const size_t extra : {size_t{0}, size_t{1}}) {
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    const uint64_t cap = (uint64_t{1} << 20) + 5;
    auto w = send_pattern(sv[1], static_cast<size_t>(cap) + extra);
    auto capped = MappedFile::read_all(sv[0], "-", cap);
    ::close(sv[0]);
    if (extra == 0) {
      REQUIRE(capped);
      CHECK(capped->size() == cap);
    } else {
      REQUIRE_FALSE(capped);
      CHECK(capped.error().message.find("-: longer than 1048581 bytes") == 0);
    }
  }
}

TEST_CASE("MappedFile::open_input opens a path as open() does") {
  auto self = MappedFile::open_input(fwtest::source_dir() + "/CMakeLists.txt");
  REQUIRE(self);
  CHECK(self->view().matches(0, "cmake_minimum_required"));
  CHECK_FALSE(MappedFile::open_input("/nonexistent/fw.bin"));
}

TEST_CASE("Memo computes each key once, keeps only what it is told to, and is bounded") {
  fwcert::Memo<int> memo(3);
  int calls = 0;
  auto twice = [&](int v) { return [&calls, v] { ++calls; return 2 * v; }; };
  CHECK(memo.get("a", twice(1)) == 2);
  CHECK(memo.get("a", twice(99)) == 2);  // remembered: not computed again
  CHECK(calls == 1);
  CHECK(memo.get("b", twice(5), [](int) { return false; }) == 10);
  CHECK(memo.get("b", twice(6)) == 12);  // the first value was not kept
  CHECK(calls == 3);
  CHECK(memo.get("c", twice(7)) == 14);
  CHECK(memo.get("d", twice(8)) == 16);  // full (a, b, c): computed, not kept
  CHECK(memo.get("d", twice(9)) == 18);
  CHECK(calls == 6);
  // Many threads asking for the same keys get the same values.
  fwcert::Memo<std::string> shared;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        const std::string k = "k" + std::to_string(i % 50);
        if (shared.get(k, [&] { return k + "!"; }) != k + "!") ++wrong;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(wrong == 0);
}

TEST_CASE("BigBlock: zero-filled memory of the asked size, large blocks aligned for huge pages") {
  for (size_t size : {size_t{0}, size_t{1}, size_t{4095}, size_t{2} << 20, (size_t{5} << 20) + 123}) {
    INFO(size);
    auto b = fwcert::BigBlock::allocate(size);
    REQUIRE(b);
    CHECK(b->size() == size);
    bool zero = true;
    for (size_t i = 0; i < size; i += 4093) zero = zero && b->data()[i] == 0;
    if (size) zero = zero && b->data()[size - 1] == 0;
    CHECK(zero);
    if (size >= (size_t{2} << 20)) CHECK(reinterpret_cast<uintptr_t>(b->data()) % (size_t{2} << 20) == 0);
    if (size) std::memset(b->data(), 0xab, size);  // writable to the last byte (ASan checks the small ones)
  }
  CHECK(fwcert::BigBlock::allocate(size_t{1} << 50) == nullptr);  // refused, not thrown
}

TEST_CASE("GrowingBlock keeps what was written across growth and never passes its cap") {
  const uint64_t cap = (uint64_t{3} << 20) + 5;
  fwcert::GrowingBlock g(1000, cap);
  uint64_t written = 0;
  while (true) {
    auto [dst, n] = g.room(100000);
    if (!dst) break;
    REQUIRE(n > 0);
    const uint64_t k = std::min<uint64_t>(n, 100000);
    for (uint64_t i = 0; i < k; ++i) dst[i] = static_cast<uint8_t>((written + i) % 251);
    g.produced(k);
    written += k;
    REQUIRE(written <= cap);
  }
  CHECK(written == cap);
  CHECK(g.size() == cap);
  bool same = true;
  for (uint64_t i = 0; i < cap; i += 997) same = same && g.data()[i] == i % 251;
  CHECK(same);
  auto block = g.release();
  REQUIRE(block);
  CHECK(block->size() >= cap);
  CHECK(g.size() == 0);
  fwcert::GrowingBlock none(0, 0);
  CHECK(none.room(10).first == nullptr);
}

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "fwcert/core/atomic_file.hpp"

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Runs write_file_atomically in a child whose files may not grow past `limit` bytes (RLIMIT_FSIZE, SIGXFSZ ignored:
// a write past it fails with EFBIG, as on a full disk). The child's exit status: 0 written, 1 refused with a message
// naming the path, 3 anything else.
int write_under_fsize_limit(const std::string& path, const std::string& text, rlim_t limit) {
  const pid_t pid = fork();
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    rlimit rl{limit, limit};
    setrlimit(RLIMIT_FSIZE, &rl);
    auto r = fwcert::write_file_atomically(path, text);
    _exit(r ? 0 : r.error().message.find(path) != std::string::npos ? 1 : 3);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST_CASE("write_file_atomically: whole or not at all, the previous file intact when the disk fills") {
  namespace fs = std::filesystem;
  std::string tmpl = (fs::temp_directory_path() / "fwcert-atomic-XXXXXX").string();
  const fs::path dir = mkdtemp(tmpl.data());
  const std::string target = (dir / "expiry.ics").string();
  REQUIRE(fwcert::write_file_atomically(target, "previous calendar\n"));
  CHECK(slurp(target) == "previous calendar\n");
  // 1 MiB of new text where only 64 KiB may be written: refused, the old file as it was, no temporary file left.
  const std::string big(1 << 20, 'x');
  CHECK(write_under_fsize_limit(target, big, 64 << 10) == 1);
  CHECK(slurp(target) == "previous calendar\n");
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) entries += (void(e), 1);
  CHECK(entries == 1);
  // Under the limit the same call replaces it.
  CHECK(write_under_fsize_limit(target, "new\n", 64 << 10) == 0);
  CHECK(slurp(target) == "new\n");
  CHECK((fs::status(target).permissions() & fs::perms::owner_read) != fs::perms::none);
  // A folder that does not exist, and a target that is a folder: errors naming the path, nothing created.
  CHECK_FALSE(fwcert::write_file_atomically((dir / "no" / "x").string(), "x"));
  fs::create_directory(dir / "sub");
  auto r = fwcert::write_file_atomically((dir / "sub").string(), "x");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find((dir / "sub").string()) != std::string::npos);
  CHECK(fs::is_directory(dir / "sub"));
  entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) entries += (void(e), 1);
  CHECK(entries == 2);
  fs::remove_all(dir);
}
