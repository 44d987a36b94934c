#ifndef FETCHDE_CCURL_SHIMS_H
#define FETCHDE_CCURL_SHIMS_H
#include <curl/curl.h>
/* Non-variadic forms of curl_easy_setopt / curl_easy_getinfo, which Swift cannot call. */
CURLcode fetchde_curl_setopt_long(CURL *h, CURLoption o, long v);
CURLcode fetchde_curl_setopt_ptr(CURL *h, CURLoption o, void *v);
#endif
