// The C libraries of the live readers, opened on first use (dlopen) instead of linked. libcurl and libfreeipmi bring
// about 30 shared libraries with them (nghttp2, libssh2, LDAP, GSSAPI, libgcrypt...); linked, the dynamic loader
// mapped and relocated every one of them at the start of every fwcert run, 4-5 ms of a 30 ms scan, although only
// `probe` and `fleet check` use them. Their headers still give the types and constants; the Debian package depends on
// both (packaging/package.cmake), so a missing library is an installation problem, reported as such.
#pragma once

#include <curl/curl.h>
#include <freeipmi/freeipmi.h>

#include <string>

namespace fwcert::live {

struct CurlLibrary {
  decltype(&curl_global_init) global_init;
  decltype(&curl_easy_init) easy_init;
  decltype(&curl_easy_cleanup) easy_cleanup;
  decltype(&curl_easy_setopt) easy_setopt;
  decltype(&curl_easy_perform) easy_perform;
  decltype(&curl_easy_getinfo) easy_getinfo;
  decltype(&curl_easy_strerror) easy_strerror;
  decltype(&curl_slist_append) slist_append;
  decltype(&curl_slist_free_all) slist_free_all;
};

struct FreeIpmiLibrary {
  decltype(&ipmi_ctx_create) ctx_create;
  decltype(&ipmi_ctx_destroy) ctx_destroy;
  decltype(&ipmi_ctx_close) ctx_close;
  decltype(&ipmi_ctx_open_outofband_2_0) ctx_open_outofband_2_0;
  decltype(&ipmi_ctx_errnum) ctx_errnum;
  decltype(&ipmi_ctx_errormsg) ctx_errormsg;
  decltype(&ipmi_cmd_get_sel_time) cmd_get_sel_time;
  decltype(&fiid_obj_create) obj_create;
  decltype(&fiid_obj_destroy) obj_destroy;
  decltype(&fiid_obj_get) obj_get;
  fiid_field_t* get_sel_time_rs;  // the response template tmpl_cmd_get_sel_time_rs (a data symbol)
};

// The library, loaded once per process (curl_global_init done); nullptr with the reason in `error` when it cannot be
// loaded or lacks a function.
const CurlLibrary* curl_library(std::string& error);
const FreeIpmiLibrary* freeipmi_library(std::string& error);

}  // namespace fwcert::live
