#include "validate.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "scalar.h"
#include "strbuf.h"
#include "banned.h"

/* What the overlap check sorts: one block or range by its addresses. */
struct span_ref {
	const struct ipam_iprange *net;
	const struct ipam_pos *pos;
	size_t decl; /* order written */
};

static int span_cmp(const void *a, const void *b)
{
	const struct span_ref *x = a, *y = b;

	return ipam_iprange_compare(x->net, y->net);
}

/* One overlap, reported where the later written of the two is. */
static void report_overlap(const struct span_ref *x, const struct span_ref *y,
			   const char *what, struct ipam_diags *diags)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	if (x->decl < y->decl) {
		const struct span_ref *t = x;

		x = y;
		y = t;
	}
	ipam_iprange_format(&a, x->net);
	ipam_iprange_format(&b, y->net);
	ipam_diag_error(diags, x->pos, "%s %s overlaps %s %s (at %s:%d:%d)",
			what, a.buf, what, b.buf, y->pos->file, y->pos->line,
			y->pos->col);
	strbuf_release(&a);
	strbuf_release(&b);
}

/*
 * Every span sharing an address with an earlier one is an error naming
 * both places.  Sorted by first address, a span overlaps an earlier one
 * exactly when it starts before the largest end so far, which is the one
 * named: n log n for any number of ranges.
 */
static void check_overlaps(struct span_ref *refs, size_t n, const char *what,
			   struct ipam_diags *diags)
{
	size_t far = 0;

	qsort(refs, n, sizeof(*refs), span_cmp);
	for (size_t i = 1; i < n; i++) {
		if (ipam_iprange_overlaps(refs[far].net, refs[i].net))
			report_overlap(&refs[i], &refs[far], what, diags);
		if (ipam_iprange_family(refs[i].net) !=
			    ipam_iprange_family(refs[far].net) ||
		    ipam_ip_compare(&refs[i].net->last, &refs[far].net->last) >
			    0)
			far = i;
	}
}

static void check_blocks(struct ipam_address_space *as,
			 struct ipam_diags *diags)
{
	struct span_ref *refs = xcalloc(as->nr_blocks + 1, sizeof(*refs));
	size_t n = 0;

	for (size_t i = 0; i < as->nr_blocks; i++)
		if (as->blocks[i].ok) {
			refs[n].net = &as->blocks[i].net;
			refs[n].decl = i;
			refs[n++].pos = &as->blocks[i].cidr.pos;
		}
	check_overlaps(refs, n, "block", diags);
	free(refs);
}

/* The block holding all of net: blocks do not overlap, so at most one. */
static long block_of(const struct ipam_address_space *as,
		     const struct ipam_iprange *net)
{
	for (size_t i = 0; i < as->nr_blocks; i++)
		if (as->blocks[i].ok &&
		    ipam_iprange_contains(&as->blocks[i].net, net))
			return (long)i;
	return -1;
}

static const struct ipam_pos *range_pos(const struct ipam_range *r)
{
	return r->cidr.value ? &r->cidr.pos : &r->start.pos;
}

static void check_range(struct ipam_address_space *as, struct ipam_range *r,
			struct ipam_diags *diags)
{
	struct strbuf sb = STRBUF_INIT;

	if (r->under < 0)
		r->under = IPAM_RANGE_UNDER_DEFAULT;
	if (r->over < 0)
		r->over = IPAM_RANGE_OVER_DEFAULT;
	if (r->under >= r->over)
		ipam_diag_error(
			diags, r->under_pos.line ? &r->under_pos : &r->over_pos,
			"'underUtilized' (%d) must be below "
			"'overUtilized' (%d)",
			r->under, r->over);
	if (r->dhcp_server.value) {
		for (char *p = r->dhcp_server.value; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (!ipam_scalar_is_fqdn(r->dhcp_server.value))
			ipam_diag_error(diags, &r->dhcp_server.pos,
					"'dhcpServer' '%s' is not a fully "
					"qualified name (host.domain)",
					r->dhcp_server.value);
	}
	if (!r->ok)
		goto out;
	r->block = block_of(as, &r->net);
	if (r->block >= 0)
		goto out;
	ipam_iprange_format(&sb, &r->net);
	ipam_diag_error(diags, range_pos(r),
			"range %s is outside every block of "
			"'addressSpace.blocks'",
			sb.buf);
out:
	strbuf_release(&sb);
}

void ipam_validate_address_space(struct ipam_desired *d,
				 struct ipam_diags *diags)
{
	struct ipam_address_space *as = &d->address_space;
	struct span_ref *refs;
	size_t n = 0;

	if (!as->pos.line)
		return;
	check_blocks(as, diags);
	refs = xcalloc(as->nr_ranges + 1, sizeof(*refs));
	for (size_t i = 0; i < as->nr_ranges; i++) {
		struct ipam_range *r = &as->ranges[i];

		check_range(as, r, diags);
		if (r->ok) {
			refs[n].net = &r->net;
			refs[n].decl = i;
			refs[n++].pos = range_pos(r);
		}
	}
	check_overlaps(refs, n, "range", diags);
	free(refs);
}
