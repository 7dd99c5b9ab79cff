/*
 * Git URL parsing without the network: the transport each form takes,
 * the SSH host and port the host-key check looks up, and the refusals.
 * (The credential rule, ipam_giturl_secret, is tested with the adapter
 * in test_gitsrc.c, which shows that the adapter applies it first.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "error.h"
#include "giturl.h"

static void expect(const char *url, enum ipam_giturl_kind kind,
		   const char *host, int port, bool relative)
{
	struct ipam_giturl u;

	if (ipam_giturl_parse(&u, url))
		fail_msg("'%s': %s", url, ipam_error_last());
	assert_int_equal(u.kind, kind);
	assert_string_equal(u.url, url);
	assert_int_equal(u.relative, relative);
	if (host) {
		assert_string_equal(u.host, host);
		assert_int_equal(u.port, port);
	} else {
		assert_null(u.host);
	}
	ipam_giturl_release(&u);
}

static void test_kinds(void **state)
{
	(void)state;
	expect("https://git.example.test/ipam.git", IPAM_GITURL_HTTPS, NULL, 0,
	       false);
	expect("ssh://git@Git.Example.TEST/ipam.git", IPAM_GITURL_SSH,
	       "git.example.test", 22, false);
	expect("ssh://git.example.test:2222/ipam.git", IPAM_GITURL_SSH,
	       "git.example.test", 2222, false);
	expect("git+ssh://git@[::1]:2200/x.git", IPAM_GITURL_SSH, "::1", 2200,
	       false);
	expect("ssh+git://[fe80::1]/x.git", IPAM_GITURL_SSH, "fe80::1", 22,
	       false);
	expect("git@git.example.test:corp/ipam.git", IPAM_GITURL_SSH,
	       "git.example.test", 22, false);
	expect("git.example.test:corp/ipam.git", IPAM_GITURL_SSH,
	       "git.example.test", 22, false);
	expect("file:///srv/git/ipam.git", IPAM_GITURL_LOCAL, NULL, 0, false);
	expect("/srv/git/ipam.git", IPAM_GITURL_LOCAL, NULL, 0, false);
	expect("relative/dir", IPAM_GITURL_LOCAL, NULL, 0, true);
	/* a slash before the colon: a path, as git reads it */
	expect("./a:b", IPAM_GITURL_LOCAL, NULL, 0, true);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"http://git.example.test/ipam.git",
		"git://git.example.test/ipam.git",
		"ftp://git.example.test/ipam.git",
		"https://tok@git.example.test/ipam.git",
		"ssh://git:pw@git.example.test/ipam.git",
		"ssh://git.example.test",
		"ssh://git.example.test:0/x.git",
		"ssh://git.example.test:65536/x.git",
		"ssh://git.example.test:22x/x.git",
		"ssh://[::1/x.git",
		"ssh://[::1]x/x.git",
		"ssh:///x.git",
		"git@:corp/x.git",
	};
	struct ipam_giturl u;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&u, 0xA5, sizeof(u));
		if (ipam_giturl_parse(&u, bad[i]) != IPAM_EINVAL)
			fail_msg("'%s' should be refused", bad[i]);
		/* on error there is nothing to release */
		assert_null(u.url);
		assert_null(u.host);
	}
	ipam_giturl_release(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
