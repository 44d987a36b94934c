#include "CCurlShims.h"

CURLcode fetchde_curl_global_init(void) { return curl_global_init(CURL_GLOBAL_ALL); }

CURLcode fetchde_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
CURLcode fetchde_curl_setopt_off_t(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
CURLcode fetchde_curl_setopt_ptr(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
CURLcode fetchde_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
CURLcode fetchde_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
CURLcode fetchde_curl_setopt_data_callback(CURL *h, CURLoption o, fetchde_curl_data_callback cb) {
    return curl_easy_setopt(h, o, cb);
}

CURLcode fetchde_curl_getinfo_long(CURL *h, CURLINFO i, long *out) { return curl_easy_getinfo(h, i, out); }
CURLcode fetchde_curl_getinfo_ptr(CURL *h, CURLINFO i, void **out) { return curl_easy_getinfo(h, i, out); }

CURLMcode fetchde_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

int fetchde_curl_msg_is_done(const CURLMsg *msg) { return msg->msg == CURLMSG_DONE; }
CURLcode fetchde_curl_msg_result(const CURLMsg *msg) { return msg->data.result; }
