/* store/digest.c -- SHA-256 of a file with OpenSSL's EVP interface */
#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/error.h"
#include "store/digest.h"

static int hash_fd(int fd, EVP_MD_CTX *md, unsigned char *sum)
{
	unsigned char buf[65536];
	unsigned int len = 0;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		return TDM_ERROR;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		if (EVP_DigestUpdate(md, buf, (size_t)n) != 1)
			return TDM_ERROR;
	}
	return EVP_DigestFinal_ex(md, sum, &len) == 1 && len == 32 ? TDM_OK : TDM_ERROR;
}

int store_file_digest(const char *path, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char sum[EVP_MAX_MD_SIZE];
	out[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int ret = TDM_ENOMEM;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md == NULL)
		goto fail;
	if ((ret = hash_fd(fd, md, sum)) != TDM_OK)
		goto fail;
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[sum[i] >> 4];
		out[2 * i + 1] = hex[sum[i] & 15];
	}
	out[64] = '\0';
fail:
	EVP_MD_CTX_free(md);
	close(fd);
	return ret;
}
