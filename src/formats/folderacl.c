#include "folderacl.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

/* The folder ACE Samba maps ace to; 0 when it maps to none. */
static int fs_ace_of(struct ipam_ace *out, const struct ipam_ace *ace)
{
	struct ipam_sd *one = ipam_sd_new(), *fs = NULL;
	int found = 0;

	one->control = IPAM_SD_DACL_PRESENT | IPAM_SD_SELF_RELATIVE;
	if (ipam_sd_ace_add(one, ace) >= 0 && !ipam_sd_to_fs(&fs, one) &&
	    fs->dacl && fs->dacl->count == 1) {
		*out = fs->dacl->aces[0];
		out->extra = NULL;
		out->extra_len = 0;
		found = 1;
	}
	ipam_sd_free(fs);
	ipam_sd_free(one);
	return found;
}

int ipam_folderacl_fold_duplicates(struct ipam_sd *ds)
{
	struct ipam_acl *acl = ds->dacl;
	struct ipam_ace *mapped;
	bool *maps;
	size_t n, k = 0;
	int folded = 0;

	if (!acl || !acl->count)
		return 0;
	n = acl->count;
	mapped = xcalloc(n, sizeof(*mapped));
	maps = xcalloc(n, sizeof(*maps));
	for (size_t i = 0; i < n; i++)
		maps[i] = !(acl->aces[i].flags & IPAM_ACE_ID) &&
			  fs_ace_of(&mapped[i], &acl->aces[i]);
	for (size_t i = 0; i < n; i++) {
		struct ipam_ace *a = &acl->aces[i];
		bool drop = false;

		for (size_t j = 0; maps[i] && j < i && !drop; j++) {
			struct ipam_ace *b = &acl->aces[j];

			if (!maps[j] || !ipam_ace_equal(&mapped[i], &mapped[j]))
				continue;
			/* b takes a's rights; a goes. */
			b->mask |= a->mask;
			if (!(a->flags & IPAM_ACE_IO))
				b->flags &= (uint8_t)~IPAM_ACE_IO;
			b->flags |= a->flags & (IPAM_ACE_OI | IPAM_ACE_CI);
			drop = true;
		}
		if (drop) {
			ipam_ace_clear(a);
			maps[i] = false;
			folded++;
			continue;
		}
		acl->aces[k] = *a;
		mapped[k] = mapped[i];
		maps[k] = maps[i];
		k++;
	}
	acl->count = k;
	free(maps);
	free(mapped);
	return folded;
}

int ipam_folderacl_order_like(struct ipam_sd *ds, const struct ipam_sd *fs)
{
	struct ipam_acl *acl = ds->dacl;
	struct ipam_ace *mapped, *out;
	bool *used, *maps;
	size_t n, k = 0;

	if (!acl || !acl->count || !fs->dacl)
		return 0;
	n = acl->count;
	mapped = xcalloc(n, sizeof(*mapped));
	used = xcalloc(n, sizeof(*used));
	maps = xcalloc(n, sizeof(*maps));
	out = xcalloc(n, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		maps[i] = fs_ace_of(&mapped[i], &acl->aces[i]);
	for (size_t f = 0; f < fs->dacl->count; f++)
		for (size_t i = 0; i < n; i++)
			if (maps[i] && !used[i] &&
			    ipam_ace_equal(&mapped[i], &fs->dacl->aces[f])) {
				out[k++] = acl->aces[i];
				used[i] = true;
				break;
			}
	for (size_t i = 0; i < n; i++)
		if (!used[i])
			out[k++] = acl->aces[i];
	memcpy(acl->aces, out, n * sizeof(*out));
	free(out);
	free(maps);
	free(used);
	free(mapped);
	return 0;
}

int ipam_folderacl_want(struct strbuf *out, const struct ipam_sd *ds)
{
	struct ipam_sd *fs = NULL;
	int rc;

	rc = ipam_sd_to_fs(&fs, ds);
	if (!rc)
		rc = ipam_sd_to_sddl(out, fs, NULL);
	ipam_sd_free(fs);
	return rc;
}

/* SDDL with aliases resolved, or the text as it is when it does not
 * parse. */
static char *norm_sddl(const char *sddl, const struct ipam_sid *domain)
{
	struct ipam_sd *sd = NULL;
	struct strbuf sb = STRBUF_INIT;

	if (ipam_sd_from_sddl(&sd, sddl, domain) ||
	    ipam_sd_to_sddl(&sb, sd, NULL)) {
		ipam_sd_free(sd);
		strbuf_release(&sb);
		return xstrdup(sddl);
	}
	ipam_sd_free(sd);
	return strbuf_detach(&sb, NULL);
}

bool ipam_folderacl_same(const char *a, const char *b,
			 const struct ipam_sid *domain)
{
	char *x = norm_sddl(a, domain), *y = norm_sddl(b, domain);
	bool same = !strcmp(x, y);

	free(x);
	free(y);
	return same;
}
