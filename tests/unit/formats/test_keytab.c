/*
 * The keytab reader: the first entry's principal, which MIT Kerberos binds
 * as when it is given a client keytab and no principal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "keytab.h"
#include "strbuf.h"

static void put16(struct strbuf *sb, unsigned v)
{
	strbuf_addch(sb, (int)(v >> 8 & 0xff));
	strbuf_addch(sb, (int)(v & 0xff));
}

static void put32(struct strbuf *sb, uint32_t v)
{
	put16(sb, v >> 16);
	put16(sb, v & 0xffff);
}

static void put_string(struct strbuf *sb, const char *s)
{
	put16(sb, (unsigned)strlen(s));
	strbuf_addstr(sb, s);
}

/*
 * One entry (format 0x502): components, realm, name type, timestamp,
 * kvno, a keyblock (enctype 18, 32 bytes of key), the 32-bit kvno.
 */
static void put_entry(struct strbuf *kt, const char *realm,
		      const char *const comps[], unsigned ncomp)
{
	struct strbuf e = STRBUF_INIT;
	unsigned i;

	put16(&e, ncomp);
	put_string(&e, realm);
	for (i = 0; i < ncomp; i++)
		put_string(&e, comps[i]);
	put32(&e, 1);	       /* KRB5_NT_PRINCIPAL */
	put32(&e, 0x65000000); /* timestamp */
	strbuf_addch(&e, 2);   /* kvno */
	put16(&e, 18);
	put16(&e, 32);
	for (i = 0; i < 32; i++)
		strbuf_addch(&e, 0xa5);
	put32(&e, 2);
	put32(kt, (uint32_t)e.len);
	strbuf_add(kt, e.buf, e.len);
	strbuf_release(&e);
}

static const char *const host[] = {"host", "dc1.corp.example.test"};
static const char *const user[] = {"ipamsvc"};

static int first(struct strbuf *out, const struct strbuf *kt)
{
	return ipam_keytab_first_principal(out, kt->buf, kt->len, "t.keytab");
}

static void test_first_principal(void **state)
{
	struct strbuf kt = STRBUF_INIT, out = STRBUF_INIT;

	(void)state;
	put16(&kt, 0x502);
	put_entry(&kt, "CORP.EXAMPLE.TEST", user, 1);
	put_entry(&kt, "CORP.EXAMPLE.TEST", host, 2);
	assert_int_equal(first(&out, &kt), 0);
	assert_string_equal(out.buf, "ipamsvc@CORP.EXAMPLE.TEST");

	/* Several components are joined with '/'; out is appended to. */
	strbuf_reset(&kt);
	put16(&kt, 0x502);
	put_entry(&kt, "CORP.EXAMPLE.TEST", host, 2);
	strbuf_reset(&out);
	strbuf_addstr(&out, "got ");
	assert_int_equal(first(&out, &kt), 0);
	assert_string_equal(out.buf,
			    "got host/dc1.corp.example.test@CORP.EXAMPLE.TEST");
	strbuf_release(&kt);
	strbuf_release(&out);
}

/* A deleted entry leaves a hole (a negative size) that is skipped. */
static void test_hole_skipped(void **state)
{
	struct strbuf kt = STRBUF_INIT, out = STRBUF_INIT;

	(void)state;
	put16(&kt, 0x502);
	put32(&kt, (uint32_t)-6);
	strbuf_add(&kt, "\0\0\0\0\0\0", 6);
	put_entry(&kt, "EXAMPLE.TEST", user, 1);
	assert_int_equal(first(&out, &kt), 0);
	assert_string_equal(out.buf, "ipamsvc@EXAMPLE.TEST");
	strbuf_release(&kt);
	strbuf_release(&out);
}

static void check_bad(const struct strbuf *kt, const char *why)
{
	struct strbuf out = STRBUF_INIT;

	strbuf_addstr(&out, "kept");
	assert_int_equal(first(&out, kt), IPAM_EINVAL);
	assert_string_equal(out.buf, "kept");
	assert_non_null(strstr(ipam_error_last(), "'t.keytab'"));
	assert_non_null(strstr(ipam_error_last(), why));
	strbuf_release(&out);
}

static void test_not_a_keytab(void **state)
{
	struct strbuf kt = STRBUF_INIT;

	(void)state;
	check_bad(&kt, "not a version 2 keytab");
	strbuf_addch(&kt, 5);
	check_bad(&kt, "not a version 2 keytab");
	strbuf_reset(&kt);
	put16(&kt, 0x501);
	put_entry(&kt, "EXAMPLE.TEST", user, 1);
	check_bad(&kt, "not a version 2 keytab");
	/* Too large to be a client keytab. */
	strbuf_reset(&kt);
	put16(&kt, 0x502);
	put_entry(&kt, "EXAMPLE.TEST", user, 1);
	while (kt.len < IPAM_KEYTAB_MAX_LEN)
		strbuf_addch(&kt, 0);
	check_bad(&kt, "under 1 MiB");
	strbuf_release(&kt);
}

static void test_no_usable_entry(void **state)
{
	struct strbuf kt = STRBUF_INIT, full = STRBUF_INIT;

	(void)state;
	/* Only the version. */
	put16(&kt, 0x502);
	check_bad(&kt, "no usable entry");
	/* An entry of size 0. */
	put32(&kt, 0);
	check_bad(&kt, "no usable entry");
	/* An entry without components. */
	strbuf_reset(&kt);
	put16(&kt, 0x502);
	put_entry(&kt, "EXAMPLE.TEST", user, 0);
	check_bad(&kt, "no usable entry");
	/* Cut anywhere inside the entry. */
	strbuf_reset(&full);
	put16(&full, 0x502);
	put_entry(&full, "EXAMPLE.TEST", host, 2);
	for (size_t n = 2; n < full.len; n++) {
		strbuf_reset(&kt);
		strbuf_add(&kt, full.buf, n);
		check_bad(&kt, "no usable entry");
	}
	/* A component longer than its entry. */
	strbuf_reset(&kt);
	put16(&kt, 0x502);
	put32(&kt, 8);
	put16(&kt, 1);
	put_string(&kt, "R");
	put16(&kt, 200);
	check_bad(&kt, "no usable entry");
	/* A hole larger than what is left. */
	strbuf_reset(&kt);
	put16(&kt, 0x502);
	put32(&kt, (uint32_t)-100);
	put_entry(&kt, "EXAMPLE.TEST", user, 1);
	check_bad(&kt, "no usable entry");
	strbuf_release(&full);
	strbuf_release(&kt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_principal),
		cmocka_unit_test(test_hole_skipped),
		cmocka_unit_test(test_not_a_keytab),
		cmocka_unit_test(test_no_usable_entry),
	};

	return cmocka_run_group_tests_name("keytab", tests, NULL, NULL);
}
