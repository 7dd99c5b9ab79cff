/* The encoding of audit events into blocks and postings keys, its fast
 * paths (a dotted quad as its key, a MAC or DUID as bare hex, lengths and
 * "no escape" from the parser, numbers by pairs of digits) against
 * references written here and the general code (ipam_db_track_key):
 * every value is stored as the general code stores it, read back from a
 * real SQLite file with the sqlite3 shell. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_events.h"
#include "db_events_internal.h"
#include "dhcplog.h"
#include "error.h"
#include "testutil.h"

/* The escape of the block's text, as db_events_internal.h describes it. */
static void ref_escape(struct strbuf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ',')
			strbuf_addstr(out, "\\c");
		else if (s[i] == '\n')
			strbuf_addstr(out, "\\n");
		else if (s[i] == '\\')
			strbuf_addstr(out, "\\\\");
		else
			strbuf_addch(out, s[i]);
	}
}

static void ref_record(struct strbuf *out, long long base,
		       const struct ipam_db_events_rec *r)
{
	const char *f[] = {r->description, r->ip, r->host, r->client_id,
			   r->extra};

	strbuf_addf(out, "%lld,%lld,%lld,%c,%d,%lld,", r->id - base, r->at,
		    r->local - r->at, r->family == 6 ? '6' : '4', r->event_id,
		    r->line);
	for (size_t i = 0; i < 5; i++) {
		if (f[i])
			ref_escape(out, f[i], strlen(f[i]));
		strbuf_addch(out, i < 4 ? ',' : '\n');
	}
}

/* Every length up to 40 with each escaped byte at each place (and none,
 * and two of them), at every offset of the output. */
static void test_escape(void **state)
{
	static const char specials[] = ",\n\\";
	struct strbuf got = STRBUF_INIT, want = STRBUF_INIT;
	char s[48];

	(void)state;
	for (size_t n = 0; n <= 40; n++) {
		for (size_t at = 0; at <= n; at++) {
			for (size_t k = 0; k < 3; k++) {
				for (size_t i = 0; i < n; i++)
					s[i] = (char)('A' + (i * 7) % 50);
				if (at < n)
					s[at] = specials[k];
				if (at + 9 < n)
					s[at + 9] = specials[(k + 1) % 3];
				for (size_t pre = 0; pre < 3; pre++) {
					strbuf_reset(&got);
					strbuf_reset(&want);
					strbuf_addf(&got, "%.*s", (int)pre,
						    "xyz");
					strbuf_addf(&want, "%.*s", (int)pre,
						    "xyz");
					ipam_db_events_escape(&got, s, n);
					ref_escape(&want, s, n);
					assert_int_equal(got.len, want.len);
					assert_memory_equal(got.buf, want.buf,
							    want.len + 1);
				}
			}
		}
	}
	strbuf_release(&got);
	strbuf_release(&want);
}

/* A clock's offset of t hours (none far from 0: no overflow). */
static long long near(long long v, size_t t)
{
	return v > -(1LL << 40) && v < 1LL << 40 ? 3600 * (long long)(t % 3)
						 : 0;
}

/* Records against the reference, through rec_put and rec_put_n (plain
 * when nothing needs an escape), and read back by rec_next. */
static void test_records(void **state)
{
	static const long long nums[] = {
		0,
		1,
		9,
		10,
		99,
		100,
		101,
		999,
		1000,
		65535,
		99999,
		100000,
		4294967295LL,
		4294967296LL,
		1783296000,
		9999999999LL,
		-1,
		-9,
		-10,
		-86400,
		LLONG_MAX,
		LLONG_MIN + 1,
	};
	static const char *const texts[] = {
		"",
		"Assign",
		"10.16.0.1",
		"ws00001.corp.example.test",
		"00155d000001",
		"a1:b7:1000001c1:0g0:h8:MSFT 5.0s1:0",
		"host,with,commas",
		"back\\slash and\nnewline,",
		"exactly16bytes..",
		"\\",
		"0123456789abcdef0123456789abcdef0123456789",
	};
	const size_t nt = sizeof(texts) / sizeof(texts[0]);
	struct strbuf got = STRBUF_INIT, want = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		for (size_t t = 0; t < nt; t++) {
			struct ipam_db_events_rec r = {
				.id = 1000 + (long long)(i % 128),
				.at = nums[i],
				.local = nums[i] + near(nums[i], t),
				.line = nums[(i + t) % 16],
				.family = t % 2 ? 6 : 4,
				.event_id = (int)(nums[(i + 3) % 9]),
				.description = texts[t],
				.ip = texts[(t + 1) % nt],
				.host = texts[(t + 2) % nt],
				.client_id =
					t == 3 ? NULL : texts[(t + 3) % nt],
				.extra = texts[(t + 5) % nt],
			};
			const char *f[] = {r.description, r.ip, r.host,
					   r.client_id, r.extra};
			size_t len[5], pos = 0;
			int plain = 1;
			struct ipam_db_events_rec back;

			for (size_t k = 0; k < 5; k++) {
				len[k] = f[k] ? strlen(f[k]) : 0;
				if (f[k] && strpbrk(f[k], ",\n\\"))
					plain = 0;
			}
			strbuf_reset(&want);
			strbuf_addstr(&want, "prefix");
			ref_record(&want, 1000, &r);
			strbuf_reset(&got);
			strbuf_addstr(&got, "prefix");
			ipam_db_events_rec_put(&got, 1000, &r);
			assert_string_equal(got.buf, want.buf);
			strbuf_reset(&got);
			strbuf_addstr(&got, "prefix");
			ipam_db_events_rec_put_n(&got, 1000, &r, len, 0);
			assert_string_equal(got.buf, want.buf);
			strbuf_reset(&got);
			strbuf_addstr(&got, "prefix");
			ipam_db_events_rec_put_n(&got, 1000, &r, len, plain);
			assert_string_equal(got.buf, want.buf);
			assert_int_equal(ipam_db_events_rec_next(
						 got.buf + 6, got.len - 6, &pos,
						 1000, &back),
					 1);
			assert_true(back.id == r.id && back.at == r.at);
			assert_string_equal(back.host, r.host);
			assert_string_equal(back.extra, r.extra);
		}
	}
	strbuf_release(&got);
	strbuf_release(&want);
}

/* ---- through a batch: the keys and the extra columns ---------------- */

struct fx {
	char *dir, *path;
	struct ipam_db *db;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = tmpdir_make();
	f->path = xasprintf("%s/state.db", f->dir);
	assert_int_equal(ipam_db_open(&f->db, f->path, IPAM_DB_CREATE), 0);
	assert_int_equal(ipam_db_migrate(f->db, NULL, NULL), 0);
	free(sqlite_query(f->path, "INSERT INTO servers (name, roles, "
				   "manageability) VALUES ('dhcp1', 'dhcp', "
				   "'managed')"));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ipam_db_close(f->db);
	tmpdir_remove(f->dir);
	free(f->path);
	free(f);
	return 0;
}

/* The posting key of migration 10: FNV-1a of the kind and the key, then
 * SplitMix64's finalizer. */
static uint64_t ref_hash(enum ipam_db_track_by by, const char *key)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = (h ^ (uint64_t)(1 + (int)by)) * 0x100000001b3ULL;
	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 0x100000001b3ULL;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

/* What the general code keeps of an address or client id: its key, or
 * the value as written (a client id in lower case). */
static char *ref_key(enum ipam_db_track_by by, const char *v)
{
	struct strbuf sb = STRBUF_INIT;

	if (*v && ipam_db_track_key(&sb, by, v)) {
		strbuf_reset(&sb);
		for (; *v; v++)
			strbuf_addch(&sb,
				     by == IPAM_TRACK_CLIENT
					     ? (char)tolower((unsigned char)*v)
					     : *v);
	}
	ipam_error_clear();
	return strbuf_detach(&sb, NULL);
}

static void ref_extra(struct strbuf *out, const char *const v[14])
{
	for (size_t i = 0; i < 14; i++) {
		size_t n = strlen(v[i]);

		if (!n)
			continue;
		if ((i == 6 || i == 8) && *v[i + 1]) {
			struct strbuf hex = STRBUF_INIT;

			strbuf_addstr(&hex, "0x");
			for (const char *a = v[i + 1]; *a; a++)
				strbuf_addf(&hex, "%02X", (unsigned char)*a);
			if (!strcmp(hex.buf, v[i]))
				n = 0;
			strbuf_release(&hex);
		}
		strbuf_addf(out, "%c%zu:%.*s", (char)('a' + i), n, (int)n,
			    v[i]);
	}
}

static const char *const ips[] = {
	"10.1.2.3",
	"010.1.2.3",
	"10.1.2.3 ",
	" 10.1.2.3",
	"0.0.0.0",
	"255.255.255.255",
	"256.1.1.1",
	"1.2.3",
	"1.2.3.4.5",
	"00.1.2.3",
	"1.2.3.04",
	"1..2.3",
	"1.2.3.",
	"1000.1.1.1",
	"100.200.250.199",
	"1.2.3.4x",
	"2001:DB8::1",
	"2001:db8:0:0::01",
	"::ffff:10.1.2.3",
	"fe80::1%eth0",
	"junk",
	"",
	"9.9.9.9",
	"10.16.0.255",
};

static const char *const clients[] = {
	"00155D0A0101",
	"00155d0a0101",
	"00:15:5D:0A:01:01",
	"00-15-5d-0a-01-01",
	"0015.5d0a.0101",
	"0x00155D0A0101",
	"00155D0A010",
	"ABC",
	"a",
	"zz",
	"00155D0A01G1",
	" 00155D0A0101",
	"000100012B3C4D5E00155D0A0101",
	"000100012B3C4D5E00155D0A01011",
	"",
	"0:1:2",
	"AbCdEf",
};

static const char *const hosts[] = {
	"ws1.corp.example.test",
	"WS1.Corp.Example.Test.",
	"A,B\\C",
	"",
	"...",
	"x",
	"MIXED-Case-Name-Longer-Than-Sixteen.",
	"\xc3\x89t\xc3\xa9.TEST",
};

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* The distinct numbers of text (one a line), sorted, one a line. */
static char *sorted_distinct(const char *text)
{
	struct strbuf out = STRBUF_INIT;
	long long *v = NULL;
	size_t n = 0, alloc = 0;

	for (const char *p = text; *p; p = strchr(p, '\n') + 1) {
		ALLOC_GROW(v, n + 1, alloc);
		v[n++] = strtoll(p, NULL, 10);
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_ll);
	for (size_t i = 0; i < n; i++)
		if (!i || v[i] != v[i - 1])
			strbuf_addf(&out, "%lld\n", v[i]);
	free(v);
	return strbuf_detach(&out, NULL);
}

/* The i-th record of text (a copy). */
static char *record_at(const char *text, size_t i)
{
	const char *end;

	while (i--)
		text = strchr(text, '\n') + 1;
	end = strchr(text, '\n');
	assert_non_null(end);
	return strndup(text, (size_t)(end - text) + 1);
}

static void add_keys(struct strbuf *keys, const char *ip, const char *cl)
{
	if (*ip)
		strbuf_addf(keys, "%lld\n",
			    (long long)ref_hash(IPAM_TRACK_IP, ip));
	if (*cl)
		strbuf_addf(keys, "%lld\n",
			    (long long)ref_hash(IPAM_TRACK_CLIENT, cl));
}

/* Event i of the combinations into e (its extra columns x) and t (its
 * text fields in the order of enum ipam_dhcplog_text). */
static void make_event(struct ipam_dhcplog_event *e, const char *x[14],
		       const char *t[IPAM_DHCPLOG_TEXTS], size_t i)
{
	const size_t ni = sizeof(ips) / sizeof(ips[0]),
		     nh = sizeof(hosts) / sizeof(hosts[0]);

	for (size_t k = 0; k < 14; k++)
		x[k] = "";
	x[1] = i % 2 ? "2316574531" : "";
	x[6] = i % 3 ? "0x4D53465420352E30" : "0x4D5346";
	x[7] = i % 4 ? "MSFT 5.0" : "";
	x[8] = i % 7 ? "" : "0x61";
	x[9] = i % 7 ? "" : "a";
	x[11] = i % 2 ? "0" : "x\\y";
	x[13] = i % 9 ? "" : "2001:db8::/64";
	*e = (struct ipam_dhcplog_event){
		.family = 4,
		.event_id = 10 + (int)(i % 30),
		.description = i % 5 ? "Renew" : "Assign,odd",
		.ip = ips[i % ni],
		.host = hosts[i % nh],
		.client_id = clients[i / ni],
		.user_name = x[0],
		.transaction_id = x[1],
		.qresult = x[2],
		.probation_time = x[3],
		.correlation_id = x[4],
		.dhcid = x[5],
		.vendor_class_hex = x[6],
		.vendor_class_ascii = x[7],
		.user_class_hex = x[8],
		.user_class_ascii = x[9],
		.relay_agent = x[10],
		.dns_reg_error = x[11],
		.error_code = x[12],
		.subnet_prefix = x[13],
		.line = i + 1,
	};
	t[0] = e->description;
	t[1] = e->ip;
	t[2] = e->host;
	t[3] = e->client_id;
	for (size_t k = 0; k < 14; k++)
		t[4 + k] = x[k];
}

/* One event per combination, with the parser's lengths (and its "no
 * escape" when no field has a byte to escape) and without: the records
 * stored are the reference's byte for byte, the postings its keys. */
static void test_batch_keys(void **state)
{
	struct fx *f = *state;
	struct ipam_db_events_batch *b;
	struct ipam_db_audit_cursor c = {.generation = 1};
	const size_t nr = sizeof(ips) / sizeof(ips[0]) *
			  (sizeof(clients) / sizeof(clients[0]));
	struct strbuf want = STRBUF_INIT, keys = STRBUF_INIT;
	char *hex, *text, *got_keys, *want_keys;
	long long run;
	size_t ne = 0;

	assert_int_equal(ipam_db_run_begin(f->db, "collect", &run), 0);
	assert_int_equal(ipam_db_events_begin(f->db, &b, "dhcp1", run,
					      "DhcpSrvLog-Mon.log", 1),
			 0);
	for (size_t i = 0; i < nr; i++) {
		const char *x[14], *t[IPAM_DHCPLOG_TEXTS];
		struct ipam_dhcplog_event e;
		size_t len[IPAM_DHCPLOG_TEXTS];
		int clean = 1;
		char *ip, *cl;

		make_event(&e, x, t, i);
		ip = ref_key(IPAM_TRACK_IP, e.ip);
		cl = ref_key(IPAM_TRACK_CLIENT, e.client_id);
		for (size_t k = 0; k < IPAM_DHCPLOG_TEXTS; k++) {
			len[k] = strlen(t[k]);
			if (strpbrk(t[k], ",\n\\"))
				clean = 0;
		}
		for (int with_len = 0; with_len < 2; with_len++) {
			struct strbuf extra = STRBUF_INIT;
			struct ipam_db_event_in in = {
				.e = &e,
				.at = 1783296000 + (long long)i,
				.local = 1783299600 + (long long)i,
			};
			struct ipam_db_events_rec r = {
				.at = in.at,
				.local = in.local,
				.line = (long long)e.line,
				.family = 4,
				.event_id = e.event_id,
				.description = e.description,
				.ip = ip,
				.host = e.host,
				.client_id = cl,
			};

			e.len = with_len ? len : NULL;
			e.plain = with_len && clean;
			ref_extra(&extra, x);
			r.extra = extra.buf;
			ref_record(&want, 0, &r);
			strbuf_release(&extra);
			assert_int_equal(ipam_db_events_add(b, &in), 0);
			add_keys(&keys, ip, cl);
			ne++;
		}
		free(ip);
		free(cl);
	}
	/* the hosts' keys: lower case, no trailing dots */
	for (size_t h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++) {
		struct strbuf k = STRBUF_INIT;

		if (!ipam_db_track_key(&k, IPAM_TRACK_HOST, hosts[h]))
			strbuf_addf(
				&keys, "%lld\n",
				(long long)ref_hash(IPAM_TRACK_HOST, k.buf));
		ipam_error_clear();
		strbuf_release(&k);
	}
	assert_int_equal(ipam_db_events_commit(b, &c), 0);

	/* the blocks' text (unpacked by the zstd tool) against the
	 * reference records, but for each record's id (counted from its
	 * block's first) */
	test_db_unpack_blocks(f->path);
	hex = sqlite_query(f->path, "SELECT group_concat(hex(events), '') "
				    "FROM (SELECT events FROM "
				    "dhcp_event_blocks ORDER BY id)");
	text = calloc(1, strlen(hex) / 2 + 1);
	for (size_t i = 0;
	     hex[2 * i] && hex[2 * i + 1] != '\0' && hex[2 * i] != '\n'; i++) {
		char pair[3] = {hex[2 * i], hex[2 * i + 1], '\0'};

		text[i] = (char)strtoul(pair, NULL, 16);
	}
	for (size_t i = 0; i < ne; i++) {
		char *theirs = record_at(text, i),
		     *mine = record_at(want.buf, i);

		assert_string_equal(strchr(theirs, ','), strchr(mine, ','));
		free(theirs);
		free(mine);
	}
	{
		size_t records = 0;

		for (const char *q = text; (q = strchr(q, '\n')); q++)
			records++;
		assert_int_equal(records, ne);
	}

	/* the postings: exactly the reference's keys */
	got_keys = sqlite_query(f->path, "SELECT k FROM dhcp_event_postings "
					 "ORDER BY k");
	want_keys = sorted_distinct(keys.buf);
	/* (the shell's output without its last newline) */
	want_keys[strlen(want_keys) - 1] = '\0';
	assert_true(strlen(want_keys) > 500);
	assert_string_equal(got_keys, want_keys);
	free(got_keys);
	free(want_keys);
	free(hex);
	free(text);
	strbuf_release(&want);
	strbuf_release(&keys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_records),
		cmocka_unit_test_setup_teardown(test_batch_keys, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
