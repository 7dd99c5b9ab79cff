#include "decode.h"
#include "decode_internal.h"

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "banned.h"

static const char *const report_keys[] = {"path", "format", NULL};

void ipam_decode_report(struct decoder *dc, const struct ipam_node *n)
{
	struct ipam_report_cfg *c = &dc->d->report;
	const struct ipam_node *map, *val;
	struct ipam_str s = {0};
	const char *key;
	char *ok;
	size_t i;

	map = ipam_decode_map(dc, n, "report", report_keys, "'report'", &ok);
	if (!map)
		return;
	c->pos = map->pos;
	FOR_EACH_KEY(map, ok, i, key, val)
	{
		if (!strcmp(key, "path")) {
			ipam_decode_string(dc, val, key, &c->path);
			continue;
		}
		if (ipam_decode_string(dc, val, key, &s))
			continue;
		if (ipam_report_format_parse(s.value, &c->format))
			ipam_diag_error(dc->diags, &s.pos,
					"'format' must be html, markdown or "
					"json, got '%s'",
					s.value);
		else
			c->format_pos = s.pos;
		free(s.value);
		s.value = NULL;
	}
	if (!c->path.value)
		ipam_diag_error(dc->diags, &map->pos,
				"'report' needs 'path': the file the report "
				"is written to");
	free(ok);
}

static const char *const addrspace_keys[] = {"blocks", "ranges", NULL};
static const char *const block_keys[] = {"cidr", "description", "owner", NULL};
static const char *const range_keys[] = {
	"cidr",	       "start", "end",		 "assignment",	 "dhcpServer",
	"description", "owner", "underUtilized", "overUtilized", NULL,
};

static const struct ipam_node *
want_seq(struct decoder *dc, const struct ipam_node *n, const char *key)
{
	const struct ipam_node *v = ipam_node_deref(n);

	if (v->kind == IPAM_NODE_SEQ)
		return v;
	ipam_diag_error(dc->diags, &v->pos, "'%s' must be a list, got %s", key,
			ipam_decode_describe(v));
	return NULL;
}

/* cidr: a prefix with no host bits set; false when it is not one. */
static bool decode_cidr(struct decoder *dc, const struct ipam_node *n,
			struct ipam_str *out, struct ipam_iprange *net)
{
	struct strbuf sb = STRBUF_INIT;
	enum ipam_ip_bad why;

	if (ipam_decode_string(dc, n, "cidr", out))
		return false;
	why = ipam_iprange_parse_cidr(net, out->value);
	if (why == IPAM_IP_OK)
		return true;
	if (why == IPAM_IP_BAD_HOST_BITS) {
		ipam_iprange_format(&sb, net);
		ipam_diag_error(dc->diags, &out->pos,
				"'cidr' %s has host bits set: the prefix is "
				"%s",
				out->value, sb.buf);
	} else if (why == IPAM_IP_BAD_LENGTH) {
		ipam_diag_error(dc->diags, &out->pos,
				"'cidr' %s: the prefix length must be 0 to 32 "
				"(IPv4) or 0 to 128 (IPv6)",
				out->value);
	} else {
		ipam_diag_error(dc->diags, &out->pos,
				"'cidr' must be a prefix such as 192.0.2.0/24 "
				"or 2001:db8::/48, got '%s'",
				out->value);
	}
	strbuf_release(&sb);
	return false;
}

static void decode_block(struct decoder *dc, const struct ipam_node *n)
{
	struct ipam_address_space *as = &dc->d->address_space;
	const struct ipam_node *map, *val;
	struct ipam_block *b;
	const char *key;
	bool has_cidr = false;
	char *ok;
	size_t i;

	map = ipam_decode_map(dc, n, "blocks", block_keys,
			      "an 'addressSpace.blocks' item", &ok);
	if (!map)
		return;
	ALLOC_GROW(as->blocks, as->nr_blocks + 1, as->alloc_blocks);
	b = &as->blocks[as->nr_blocks++];
	memset(b, 0, sizeof(*b));
	b->pos = map->pos;
	FOR_EACH_KEY(map, ok, i, key, val)
	{
		if (!strcmp(key, "cidr")) {
			b->ok = decode_cidr(dc, val, &b->cidr, &b->net);
			has_cidr = true;
		} else if (!strcmp(key, "description"))
			ipam_decode_string(dc, val, key, &b->description);
		else
			ipam_decode_string(dc, val, key, &b->owner);
	}
	if (!has_cidr)
		ipam_diag_error(dc->diags, &map->pos,
				"an 'addressSpace.blocks' item needs 'cidr'");
	free(ok);
}

/* start: or end: of a range, one address. */
static bool decode_bound(struct decoder *dc, const struct ipam_node *n,
			 const char *key, struct ipam_str *out,
			 struct ipam_ip *ip)
{
	if (ipam_decode_string(dc, n, key, out))
		return false;
	if (!ipam_ip_parse(ip, out->value))
		return true;
	ipam_diag_error(dc->diags, &out->pos,
			"'%s' must be an IPv4 or IPv6 address, got '%s'", key,
			out->value);
	return false;
}

static void decode_threshold(struct decoder *dc, const struct ipam_node *n,
			     const char *key, int *out, struct ipam_pos *pos)
{
	long long v;

	if (ipam_decode_int(dc, n, key, 0, 100, &v, pos))
		return;
	if (v < 0 || v > 100) {
		ipam_diag_error(dc->diags, pos,
				"'%s' must be a percent from 0 to 100, got "
				"%lld",
				key, v);
		return;
	}
	*out = (int)v;
}

static void decode_assignment(struct decoder *dc, const struct ipam_node *n,
			      struct ipam_range *r)
{
	struct ipam_str s = {0};

	if (ipam_decode_string(dc, n, "assignment", &s))
		return;
	if (ipam_assignment_parse(s.value, &r->assignment))
		ipam_diag_error(dc->diags, &s.pos,
				"'assignment' must be dhcp or static, got "
				"'%s'",
				s.value);
	else
		r->assignment_pos = s.pos;
	free(s.value);
}

/* The rules between a range's keys, once all are read. */
static void finish_range(struct decoder *dc, struct ipam_range *r,
			 const struct ipam_ip *start, const struct ipam_ip *end,
			 bool start_ok, bool end_ok, bool has_assignment)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	enum ipam_ip_bad why;

	if (r->cidr.value && (r->start.value || r->end.value))
		ipam_diag_error(dc->diags, &r->cidr.pos,
				"a range is 'cidr' or 'start' and 'end', not "
				"both");
	else if (!r->cidr.value && !r->start.value && !r->end.value)
		ipam_diag_error(dc->diags, &r->pos,
				"an 'addressSpace.ranges' item needs 'cidr' "
				"or 'start' and 'end'");
	else if (!r->cidr.value && (!r->start.value || !r->end.value))
		ipam_diag_error(dc->diags, &r->pos,
				"an 'addressSpace.ranges' item needs both "
				"'start' and 'end'");
	else if (!r->cidr.value && start_ok && end_ok) {
		why = ipam_iprange_from_bounds(&r->net, start, end);
		ipam_ip_format(&a, start);
		ipam_ip_format(&b, end);
		if (why == IPAM_IP_BAD_ORDER)
			ipam_diag_error(dc->diags, &r->start.pos,
					"range start %s is after its end %s",
					a.buf, b.buf);
		else if (why != IPAM_IP_OK)
			ipam_diag_error(dc->diags, &r->start.pos,
					"range start %s and end %s are of "
					"different address families",
					a.buf, b.buf);
		else
			r->ok = true;
	}
	if (!has_assignment)
		ipam_diag_error(dc->diags, &r->pos,
				"an 'addressSpace.ranges' item needs "
				"'assignment': dhcp or static");
	if (r->assignment == IPAM_ASSIGNMENT_DHCP && !r->dhcp_server.value)
		ipam_diag_error(dc->diags, &r->assignment_pos,
				"a dhcp range needs 'dhcpServer': the DHCP "
				"server that hands out its leases");
	if (r->assignment == IPAM_ASSIGNMENT_STATIC && r->dhcp_server.value)
		ipam_diag_error(dc->diags, &r->dhcp_server.pos,
				"'dhcpServer' is only for ranges with "
				"'assignment: dhcp'");
	strbuf_release(&a);
	strbuf_release(&b);
}

static void decode_range(struct decoder *dc, const struct ipam_node *n)
{
	struct ipam_address_space *as = &dc->d->address_space;
	const struct ipam_node *map, *val;
	struct ipam_ip start, end;
	bool start_ok = false, end_ok = false, has_assignment = false;
	struct ipam_range *r;
	const char *key;
	char *ok;
	size_t i;

	map = ipam_decode_map(dc, n, "ranges", range_keys,
			      "an 'addressSpace.ranges' item", &ok);
	if (!map)
		return;
	ALLOC_GROW(as->ranges, as->nr_ranges + 1, as->alloc_ranges);
	r = &as->ranges[as->nr_ranges++];
	memset(r, 0, sizeof(*r));
	r->pos = map->pos;
	r->under = r->over = -1;
	r->block = -1;
	FOR_EACH_KEY(map, ok, i, key, val)
	{
		if (!strcmp(key, "cidr"))
			r->ok = decode_cidr(dc, val, &r->cidr, &r->net);
		else if (!strcmp(key, "start"))
			start_ok =
				decode_bound(dc, val, key, &r->start, &start);
		else if (!strcmp(key, "end"))
			end_ok = decode_bound(dc, val, key, &r->end, &end);
		else if (!strcmp(key, "assignment")) {
			decode_assignment(dc, val, r);
			has_assignment = true;
		} else if (!strcmp(key, "dhcpServer"))
			ipam_decode_string(dc, val, key, &r->dhcp_server);
		else if (!strcmp(key, "description"))
			ipam_decode_string(dc, val, key, &r->description);
		else if (!strcmp(key, "owner"))
			ipam_decode_string(dc, val, key, &r->owner);
		else if (!strcmp(key, "underUtilized"))
			decode_threshold(dc, val, key, &r->under,
					 &r->under_pos);
		else
			decode_threshold(dc, val, key, &r->over, &r->over_pos);
	}
	finish_range(dc, r, &start, &end, start_ok, end_ok, has_assignment);
	free(ok);
}

void ipam_decode_address_space(struct decoder *dc, const struct ipam_node *n)
{
	struct ipam_address_space *as = &dc->d->address_space;
	const struct ipam_node *map, *val, *seq;
	const char *key;
	char *ok;
	size_t i, j;

	map = ipam_decode_map(dc, n, "addressSpace", addrspace_keys,
			      "'addressSpace'", &ok);
	if (!map)
		return;
	as->pos = map->pos;
	FOR_EACH_KEY(map, ok, i, key, val)
	{
		seq = want_seq(dc, val, key);
		for (j = 0; seq && j < seq->nr; j++)
			if (!strcmp(key, "blocks"))
				decode_block(dc, seq->items[j]);
			else
				decode_range(dc, seq->items[j]);
	}
	free(ok);
}
