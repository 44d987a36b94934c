#include "COpenSSLShims.h"
void fetchde_openssl_free(void *ptr) { OPENSSL_free(ptr); }
