#ifndef FETCHDE_COPENSSL_SHIMS_H
#define FETCHDE_COPENSSL_SHIMS_H
#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/bio.h>

/* Function forms of OpenSSL macros and OSSL_PARAM-heavy calls that Swift
 * cannot import or that are awkward to build from Swift. No logic beyond
 * argument plumbing lives here. */

/* OPENSSL_free */
void fetchde_openssl_free(void *ptr);

/* EVP_MAC_init for HMAC with {digest: SHA256}. A zero-length key is passed as
 * a valid pointer so OpenSSL sets an empty key instead of re-initialising. */
int fetchde_hmac_sha256_init(EVP_MAC_CTX *ctx, const unsigned char *key, size_t keylen);

/* BIO_get_mem_data: returns the length and sets *data. */
long fetchde_bio_get_mem_data(BIO *bio, char **data);

/* Set the GCM IV length (EVP_CTRL_GCM_SET_IVLEN). */
int fetchde_gcm_set_ivlen(EVP_CIPHER_CTX *ctx, int ivlen);
/* Read (EVP_CTRL_GCM_GET_TAG) / set (EVP_CTRL_GCM_SET_TAG) the GCM tag. */
int fetchde_gcm_get_tag(EVP_CIPHER_CTX *ctx, unsigned char *tag, int taglen);
int fetchde_gcm_set_tag(EVP_CIPHER_CTX *ctx, const unsigned char *tag, int taglen);

/* Write pkey as a PKCS#8 EncryptedPrivateKeyInfo PEM: PBES2 with scrypt
 * (N, r, p) and AES-256-CBC, random salt and IV. Returns 1 on success. */
int fetchde_write_pkcs8_scrypt_aes256cbc(BIO *out, EVP_PKEY *pkey,
                                         const char *pass, int passlen,
                                         unsigned long long n, unsigned long long r,
                                         unsigned long long p);

/* pem_password_cb that copies a {const char *, size_t} passphrase given as
 * userdata, or fails (-1) when userdata is NULL: never prompts on a tty. */
int fetchde_pem_passphrase_cb(char *buf, int size, int rwflag, void *userdata);
typedef struct {
    const char *passphrase;
    size_t length;
} fetchde_passphrase;

#endif
