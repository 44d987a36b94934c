#ifndef FETCHDE_COPENSSL_SHIMS_H
#define FETCHDE_COPENSSL_SHIMS_H
#include <openssl/evp.h>
#include <openssl/crypto.h>
/* Function forms of OpenSSL macros that Swift cannot import. */
void fetchde_openssl_free(void *ptr);
#endif
