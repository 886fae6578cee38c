/* store/digest.c -- SHA-256 of a zone file and of every file it $INCLUDEs, with OpenSSL's EVP */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/error.h"
#include "store/digest.h"
#include "zonefile/zonefile.h"

/*
 * The digest decides whether a zone file is parsed again (runtime/zoneload.c): it must change whenever
 * what the parser would read changes, included files too. A file without $INCLUDE keeps the plain
 * SHA-256 of its octets (the digest stores have always held). A file with some is
 *
 *   SHA-256( "tandem $INCLUDE digest 1" NUL, SHA-256(its octets),
 *            then per $INCLUDE in order: the path as resolved, NUL, the included file's digest (the same,
 *            recursively) or "unreadable" and the errno )
 *
 * An include tree deeper than ZONEFILE_INCLUDE_DEPTH_MAX or of more than ZONEFILE_INCLUDE_FILES_MAX
 * files (a loop, say) gets a random digest instead: it never matches, so such a zone is always parsed
 * again, and zonefile_load() refuses it with the reason.
 */
#define DIGEST_TAG "tandem $INCLUDE digest 1"

typedef struct {
	unsigned files;              /* files opened so far in this tree */
	bool unbounded;              /* too deep or too many: the digest must not match anything */
} walk_t;

/* The $INCLUDE names of one file, as written, in order. */
typedef struct {
	char **names;
	size_t count, cap;
	walk_t *walk;
} includes_t;

static int add_include(void *ctx, const char *name, unsigned line)
{
	includes_t *inc = ctx;
	if (inc->walk->files + inc->count >= ZONEFILE_INCLUDE_FILES_MAX) {
		inc->walk->unbounded = true;
		return 0;
	}
	if (inc->count == inc->cap) {
		size_t cap = inc->cap ? inc->cap * 2 : 4;
		char **p = realloc(inc->names, cap * sizeof(*p));
		if (p == NULL)
			return TDM_ENOMEM;
		inc->names = p;
		inc->cap = cap;
	}
	if ((inc->names[inc->count] = strdup(name)) == NULL)
		return TDM_ENOMEM;
	inc->count++;
	return 0;
}

static void includes_free(includes_t *inc)
{
	for (size_t i = 0; i < inc->count; i++)
		free(inc->names[i]);
	free(inc->names);
}

/* Reads the file: its own SHA-256 into sum, its $INCLUDE names into inc. */
static int hash_fd(int fd, EVP_MD_CTX *md, unsigned char sum[32], includes_t *inc)
{
	unsigned char buf[65536];
	unsigned int len = 0;
	zonefile_include_scan_t scan;
	zonefile_include_scan_init(&scan);
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
		int ret = zonefile_include_scan(&scan, (const char *)buf, (size_t)n, add_include, inc);
		if (ret == TDM_ESPACE)
			inc->walk->unbounded = true;   /* a name too long to follow: never trust this digest */
		else if (ret != TDM_OK)
			return ret;
	}
	int ret = zonefile_include_scan_end(&scan, add_include, inc);
	if (ret == TDM_ESPACE)
		inc->walk->unbounded = true;
	else if (ret != TDM_OK)
		return ret;
	return EVP_DigestFinal_ex(md, sum, &len) == 1 && len == 32 ? TDM_OK : TDM_ERROR;
}

static int tree_digest(walk_t *w, const char *path, const char *text, size_t len, int depth,
                       unsigned char sum[32]);

/* Folds one included file into the outer digest: its path, then its digest or why it has none. */
static int fold_include(walk_t *w, EVP_MD_CTX *md, const char *including, const char *name,
                        int depth)
{
	char path[PATH_MAX];
	unsigned char sum[32];
	int ret = zonefile_include_path(including, name, path, sizeof(path));
	const char *shown = ret == TDM_OK ? path : name;
	if (ret == TDM_OK)
		ret = tree_digest(w, path, NULL, 0, depth + 1, sum);
	if (ret == TDM_ENOMEM || ret == TDM_ERROR)
		return ret;
	if (EVP_DigestUpdate(md, shown, strlen(shown) + 1) != 1)
		return TDM_ERROR;
	if (ret == TDM_OK)
		return EVP_DigestUpdate(md, sum, sizeof(sum)) == 1 ? TDM_OK : TDM_ERROR;
	char why[48];
	int n = snprintf(why, sizeof(why), "unreadable %d", ret);
	return EVP_DigestUpdate(md, why, (size_t)n) == 1 ? TDM_OK : TDM_ERROR;
}

/* The octets of a file already read: its own SHA-256 and its $INCLUDE names, as hash_fd gives. */
static int hash_text(const char *text, size_t len, EVP_MD_CTX *md, unsigned char sum[32],
                     includes_t *inc)
{
	unsigned int n = 0;
	zonefile_include_scan_t scan;
	zonefile_include_scan_init(&scan);
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(md, text, len) != 1)
		return TDM_ERROR;
	int ret = TDM_OK;
	if (memchr(text, '$', len) != NULL) {   /* no '$', no directive: most zone files */
		ret = zonefile_include_scan(&scan, text, len, add_include, inc);
		if (ret == TDM_OK)
			ret = zonefile_include_scan_end(&scan, add_include, inc);
	}
	if (ret == TDM_ESPACE)
		inc->walk->unbounded = true;
	else if (ret != TDM_OK)
		return ret;
	return EVP_DigestFinal_ex(md, sum, &n) == 1 && n == 32 ? TDM_OK : TDM_ERROR;
}

/* The digest of the file at path (text: its octets when already read, NULL to read them here). */
static int tree_digest(walk_t *w, const char *path, const char *text, size_t len, int depth,
                       unsigned char sum[32])
{
	includes_t inc = { .walk = w };
	unsigned char own[32];
	unsigned int n = 0;
	int fd = -1;
	if (depth > ZONEFILE_INCLUDE_DEPTH_MAX || w->files >= ZONEFILE_INCLUDE_FILES_MAX) {
		w->unbounded = true;
		memset(sum, 0, 32);
		return TDM_OK;
	}
	w->files++;
	if (text == NULL && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	int ret = TDM_ENOMEM;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md == NULL)
		goto fail;
	ret = text != NULL ? hash_text(text, len, md, own, &inc) : hash_fd(fd, md, own, &inc);
	if (fd >= 0)
		close(fd);
	fd = -1;
	if (ret != TDM_OK)
		goto fail;
	if (inc.count == 0) {
		memcpy(sum, own, 32);
		goto fail;
	}
	ret = TDM_ERROR;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, DIGEST_TAG, sizeof(DIGEST_TAG)) != 1 ||
	    EVP_DigestUpdate(md, own, sizeof(own)) != 1)
		goto fail;
	for (size_t i = 0; i < inc.count; i++)
		if ((ret = fold_include(w, md, path, inc.names[i], depth)) != TDM_OK)
			goto fail;
	ret = EVP_DigestFinal_ex(md, sum, &n) == 1 && n == 32 ? TDM_OK : TDM_ERROR;
fail:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(md);
	includes_free(&inc);
	return ret;
}

static int digest_of(const char *path, const char *text, size_t len, char out[65], bool *includes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char sum[32];
	walk_t w = { 0 };
	out[0] = '\0';
	int ret = tree_digest(&w, path, text, len, 0, sum);
	if (ret != TDM_OK)
		return ret;
	/* Every $INCLUDE followed (or found unreadable) counted one more file. */
	if (includes != NULL)
		*includes = w.files > 1 || w.unbounded;
	if (w.unbounded && getrandom(sum, sizeof(sum), 0) != (ssize_t)sizeof(sum))
		return TDM_ERROR;
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[sum[i] >> 4];
		out[2 * i + 1] = hex[sum[i] & 15];
	}
	out[64] = '\0';
	return TDM_OK;
}

int store_text_digest(const char *path, const char *text, size_t len, char out[65],
                      bool *includes)
{
	return digest_of(path, text, len, out, includes);
}

int store_file_digest(const char *path, char out[65])
{
	return store_file_digest_ex(path, out, NULL);
}

int store_file_digest_ex(const char *path, char out[65], bool *includes)
{
	return digest_of(path, NULL, 0, out, includes);
}
