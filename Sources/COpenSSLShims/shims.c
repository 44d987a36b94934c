#include "COpenSSLShims.h"
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/pkcs12.h>

void fetchde_openssl_free(void *ptr) { OPENSSL_free(ptr); }

int fetchde_hmac_sha256_init(EVP_MAC_CTX *ctx, const unsigned char *key, size_t keylen) {
    static const unsigned char empty[1] = {0};
    char digest[] = "SHA256";
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    return EVP_MAC_init(ctx, key != NULL ? key : empty, keylen, params);
}

long fetchde_bio_get_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }

int fetchde_gcm_set_ivlen(EVP_CIPHER_CTX *ctx, int ivlen) {
    return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, ivlen, NULL);
}

int fetchde_gcm_get_tag(EVP_CIPHER_CTX *ctx, unsigned char *tag, int taglen) {
    return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, taglen, tag);
}

int fetchde_gcm_set_tag(EVP_CIPHER_CTX *ctx, const unsigned char *tag, int taglen) {
    return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, taglen, (void *)tag);
}

int fetchde_write_pkcs8_scrypt_aes256cbc(BIO *out, EVP_PKEY *pkey,
                                         const char *pass, int passlen,
                                         unsigned long long n, unsigned long long r,
                                         unsigned long long p) {
    int ok = 0;
    PKCS8_PRIV_KEY_INFO *p8inf = EVP_PKEY2PKCS8(pkey);
    X509_ALGOR *pbe = NULL;
    X509_SIG *p8 = NULL;
    if (p8inf == NULL) goto end;
    pbe = PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), NULL, 0, NULL, n, r, p);
    if (pbe == NULL) goto end;
    p8 = PKCS8_set0_pbe(pass, passlen, p8inf, pbe);
    if (p8 == NULL) goto end;
    pbe = NULL; /* owned by p8 now */
    ok = PEM_write_bio_PKCS8(out, p8);
end:
    X509_SIG_free(p8);
    X509_ALGOR_free(pbe);
    PKCS8_PRIV_KEY_INFO_free(p8inf);
    return ok;
}

int fetchde_pem_passphrase_cb(char *buf, int size, int rwflag, void *userdata) {
    (void)rwflag;
    const fetchde_passphrase *pp = (const fetchde_passphrase *)userdata;
    if (pp == NULL || pp->passphrase == NULL || size <= 0) return -1;
    if (pp->length > (size_t)size) return -1;
    memcpy(buf, pp->passphrase, pp->length);
    return (int)pp->length;
}
