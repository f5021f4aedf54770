#include "dynamic.hpp"

#include <dlfcn.h>

#include <mutex>

namespace fwcert::live {

namespace {

// Resolves every name into `out` in order; false with the first missing name in `error`.
template <typename Fn>
bool resolve(void* handle, const char* name, Fn& out, std::string& error) {
  void* p = dlsym(handle, name);
  if (!p) {
    error = std::string("function ") + name + " not found";
    return false;
  }
  out = reinterpret_cast<Fn>(p);
  return true;
}

void* open_library(const char* soname, const char* package, std::string& error) {
  void* h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!h) error = std::string("cannot load ") + soname + " (Debian package " + package + "): " + dlerror();
  return h;
}

}  // namespace

const CurlLibrary* curl_library(std::string& error) {
  static std::once_flag once;
  static CurlLibrary lib;
  static const CurlLibrary* loaded = nullptr;
  static std::string failure;
  std::call_once(once, [] {
    void* h = open_library("libcurl.so.4", "libcurl4", failure);
    if (!h) return;
    bool ok = resolve(h, "curl_global_init", lib.global_init, failure) &&
              resolve(h, "curl_easy_init", lib.easy_init, failure) &&
              resolve(h, "curl_easy_cleanup", lib.easy_cleanup, failure) &&
              resolve(h, "curl_easy_setopt", lib.easy_setopt, failure) &&
              resolve(h, "curl_easy_perform", lib.easy_perform, failure) &&
              resolve(h, "curl_easy_getinfo", lib.easy_getinfo, failure) &&
              resolve(h, "curl_easy_strerror", lib.easy_strerror, failure) &&
              resolve(h, "curl_slist_append", lib.slist_append, failure) &&
              resolve(h, "curl_slist_free_all", lib.slist_free_all, failure);
    if (!ok) {
      failure = "libcurl.so.4: " + failure;
      return;
    }
    lib.global_init(CURL_GLOBAL_DEFAULT);
    loaded = &lib;
  });
  if (!loaded) error = failure;
  return loaded;
}

const FreeIpmiLibrary* freeipmi_library(std::string& error) {
  static std::once_flag once;
  static FreeIpmiLibrary lib;
  static const FreeIpmiLibrary* loaded = nullptr;
  static std::string failure;
  std::call_once(once, [] {
    void* h = open_library("libfreeipmi.so.17", "libfreeipmi17", failure);
    if (!h) return;
    bool ok = resolve(h, "ipmi_ctx_create", lib.ctx_create, failure) &&
              resolve(h, "ipmi_ctx_destroy", lib.ctx_destroy, failure) &&
              resolve(h, "ipmi_ctx_close", lib.ctx_close, failure) &&
              resolve(h, "ipmi_ctx_open_outofband_2_0", lib.ctx_open_outofband_2_0, failure) &&
              resolve(h, "ipmi_ctx_errnum", lib.ctx_errnum, failure) &&
              resolve(h, "ipmi_ctx_errormsg", lib.ctx_errormsg, failure) &&
              resolve(h, "ipmi_cmd_get_sel_time", lib.cmd_get_sel_time, failure) &&
              resolve(h, "fiid_obj_create", lib.obj_create, failure) &&
              resolve(h, "fiid_obj_destroy", lib.obj_destroy, failure) &&
              resolve(h, "fiid_obj_get", lib.obj_get, failure) &&
              resolve(h, "tmpl_cmd_get_sel_time_rs", lib.get_sel_time_rs, failure);
    if (!ok) {
      failure = "libfreeipmi.so.17: " + failure;
      return;
    }
    loaded = &lib;
  });
  if (!loaded) error = failure;
  return loaded;
}

}  // namespace fwcert::live
