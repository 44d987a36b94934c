#ifndef FETCHDE_CCURL_SHIMS_H
#define FETCHDE_CCURL_SHIMS_H
#include <curl/curl.h>

/* Non-variadic forms of libcurl's variadic calls and macros, which Swift cannot call. */

/* A libcurl write/header callback: (data, size, nmemb, userdata) -> bytes taken. */
typedef size_t (*fetchde_curl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);

/* curl_global_init(CURL_GLOBAL_ALL), once per process (callers serialise). */
CURLcode fetchde_curl_global_init(void);

CURLcode fetchde_curl_setopt_long(CURL *h, CURLoption o, long v);
CURLcode fetchde_curl_setopt_off_t(CURL *h, CURLoption o, curl_off_t v);
CURLcode fetchde_curl_setopt_ptr(CURL *h, CURLoption o, void *v);
CURLcode fetchde_curl_setopt_string(CURL *h, CURLoption o, const char *v);
CURLcode fetchde_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v);
CURLcode fetchde_curl_setopt_data_callback(CURL *h, CURLoption o, fetchde_curl_data_callback cb);

CURLcode fetchde_curl_getinfo_long(CURL *h, CURLINFO i, long *out);
CURLcode fetchde_curl_getinfo_ptr(CURL *h, CURLINFO i, void **out);

CURLMcode fetchde_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v);

/* CURLMsg.data is a union; these read it without Swift touching the union. */
int fetchde_curl_msg_is_done(const CURLMsg *msg);
CURLcode fetchde_curl_msg_result(const CURLMsg *msg);

#endif
