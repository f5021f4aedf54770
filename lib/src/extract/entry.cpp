#include "fwcert/extract/entry.hpp"

namespace fwcert {

std::string_view to_string(EntryKind k) {
  switch (k) {
    case EntryKind::File: return "file";
    case EntryKind::Directory: return "dir";
    case EntryKind::Symlink: return "symlink";
    case EntryKind::CharDevice: return "chardev";
    case EntryKind::BlockDevice: return "blockdev";
    case EntryKind::Fifo: return "fifo";
    case EntryKind::Socket: return "socket";
  }
  return "file";
}

EntryKind kind_from_mode(uint32_t mode) {
  switch (mode & 0170000) {
    case 0040000: return EntryKind::Directory;
    case 0120000: return EntryKind::Symlink;
    case 0020000: return EntryKind::CharDevice;
    case 0060000: return EntryKind::BlockDevice;
    case 0010000: return EntryKind::Fifo;
    case 0140000: return EntryKind::Socket;
    default: return EntryKind::File;
  }
}

}  // namespace fwcert
