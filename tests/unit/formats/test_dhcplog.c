/* The DHCP audit-log parser: both IPv4 formats and the IPv6 log, CRLF
 * and LF, the header block, malformed lines, resuming, long lines, and
 * the lab's fixture files fed in pieces of every size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dhcplog.h"
#include "error.h"
#include "testutil.h"

/* What the callbacks saw, one line of text per event or bad line. */
struct seen {
	struct strbuf out;
	int events, bad;
	int stop_at; /* the event number whose callback fails (0: none) */
	struct ipam_dhcplog *p; /* set: record its position in callbacks */
	size_t pos[4];
	int plain; /* events said to have no '\\' */
};

/* The lengths handed out are the strings', and an event without a '\\'
 * (plain) has none; no field has a ',' or a newline. */
static void check_texts(const struct ipam_dhcplog_event *e, struct seen *s)
{
	const char *t[IPAM_DHCPLOG_TEXTS] = {
		e->description,
		e->ip,
		e->host,
		e->client_id,
		e->user_name,
		e->transaction_id,
		e->qresult,
		e->probation_time,
		e->correlation_id,
		e->dhcid,
		e->vendor_class_hex,
		e->vendor_class_ascii,
		e->user_class_hex,
		e->user_class_ascii,
		e->relay_agent,
		e->dns_reg_error,
		e->error_code,
		e->subnet_prefix,
	};

	assert_non_null(e->len);
	for (size_t i = 0; i < IPAM_DHCPLOG_TEXTS; i++) {
		assert_int_equal(e->len[i], strlen(t[i]));
		assert_null(strpbrk(t[i], ",\n"));
		if (e->plain)
			assert_null(strchr(t[i], '\\'));
	}
	s->plain += e->plain != 0;
}

static int on_event(const struct ipam_dhcplog_event *e, void *ctx)
{
	struct seen *s = ctx;

	if (s->p && s->events < 2) {
		s->pos[2 * s->events] = ipam_dhcplog_consumed(s->p);
		s->pos[2 * s->events + 1] = ipam_dhcplog_lines(s->p);
	}
	if (s->stop_at && s->events + 1 == s->stop_at)
		return IPAM_EDB;
	check_texts(e, s);
	s->events++;
	strbuf_addf(&s->out,
		    "%zu v%d %d %04d-%02d-%02dT%02d:%02d:%02d [%s] ip=%s "
		    "host=%s id=%s",
		    e->line, e->family, e->event_id, e->year, e->month, e->day,
		    e->hour, e->minute, e->second, e->description, e->ip,
		    e->host, e->client_id);
	if (*e->transaction_id || *e->qresult || *e->vendor_class_ascii ||
	    *e->dns_reg_error)
		strbuf_addf(&s->out, " tx=%s q=%s vc=%s/%s dns=%s",
			    e->transaction_id, e->qresult, e->vendor_class_hex,
			    e->vendor_class_ascii, e->dns_reg_error);
	if (*e->error_code || *e->subnet_prefix || *e->dhcid)
		strbuf_addf(&s->out, " err=%s prefix=%s dhcid=%s",
			    e->error_code, e->subnet_prefix, e->dhcid);
	strbuf_addch(&s->out, '\n');
	return 0;
}

static int on_bad(size_t line, const char *why, void *ctx)
{
	struct seen *s = ctx;

	s->bad++;
	strbuf_addf(&s->out, "%zu: %s\n", line, why);
	return s->stop_at < 0 ? IPAM_ELIMIT : 0;
}

static void parse_all(struct seen *s, int family, const char *columns,
		      size_t line, const char *text, size_t len, size_t piece)
{
	struct ipam_dhcplog *p;

	memset(s, 0, sizeof(*s));
	strbuf_init(&s->out);
	p = ipam_dhcplog_new(family, columns, line, on_event, on_bad, s);
	for (size_t at = 0; at < len; at += piece)
		assert_int_equal(
			ipam_dhcplog_feed(p, text + at,
					  len - at < piece ? len - at : piece),
			0);
	ipam_dhcplog_free(p);
}

static const char current[] =
	"\t\tMicrosoft DHCP Service Activity Log\r\n"
	"\r\n"
	"Event ID  Meaning\r\n"
	"00\tThe log was started.\r\n"
	"50+\tCodes above 50 are used for Rogue Server Detection.\r\n"
	"\r\n"
	"ID,Date,Time,Description,IP Address,Host Name,MAC Address,User "
	"Name, TransactionID, QResult,Probationtime, CorrelationID,Dhcid,"
	"VendorClass(Hex),VendorClass(ASCII),UserClass(Hex),UserClass(ASCII),"
	"RelayAgentInformation,DnsRegError.\r\n"
	"00,11/02/26,00:00:04,Started,,,,,0,6,,,,,,,,,0\r\n"
	"10,11/02/26,08:01:15,Assign,198.51.100.101,ws101.corp.example.test,"
	"00155D0A0101,,2316574531,0,,,,0x4D53465420352E30,MSFT 5.0,,,,0\r\n";

static void test_current_format(void **state)
{
	struct seen s;

	(void)state;
	parse_all(&s, 4, NULL, 1, current, strlen(current), 4096);
	assert_string_equal(
		s.out.buf,
		"8 v4 0 2026-11-02T00:00:04 [Started] ip= host= id= tx=0 q=6 "
		"vc=/ dns=0\n"
		"9 v4 10 2026-11-02T08:01:15 [Assign] ip=198.51.100.101 "
		"host=ws101.corp.example.test id=00155D0A0101 tx=2316574531 "
		"q=0 vc=0x4D53465420352E30/MSFT 5.0 dns=0\n");
	strbuf_release(&s.out);
}

static void test_old_format_lf(void **state)
{
	static const char old[] =
		"\t\tMicrosoft DHCP Service Activity Log\n\n"
		"ID,Date,Time,Description,IP Address,Host Name,MAC Address\n"
		"11,01/31/08,23:59:59,Renew,10.0.0.5,pc5.example.test.,"
		"00-15-5D-01-02-03\n"
		"12,2/1/2008,0:0:1,Release,10.0.0.5,pc5,00155d010203\n";
	struct seen s;

	(void)state;
	parse_all(&s, 4, NULL, 1, old, strlen(old), 7);
	assert_string_equal(s.out.buf,
			    "4 v4 11 2008-01-31T23:59:59 [Renew] ip=10.0.0.5 "
			    "host=pc5.example.test. id=00-15-5D-01-02-03\n"
			    "5 v4 12 2008-02-01T00:00:01 [Release] "
			    "ip=10.0.0.5 host=pc5 id=00155d010203\n");
	strbuf_release(&s.out);
}

static void test_ipv6(void **state)
{
	static const char v6[] =
		"\t\tMicrosoft DHCPv6 Service Activity Log\r\n\r\n"
		"Event ID  Meaning\r\n"
		"11000\tDHCPV6 Solicit\r\n\r\n"
		"ID,Date,Time,Description,IPv6 Address,Host Name,Error Code, "
		"Duid Length, Duid Bytes(Hex),User Name,Dhcid,Subnet Prefix\r\n"
		"11010,11/02/26,00:00:01,DHCPV6 Started,,,,,,,,\r\n"
		"11002,11/02/26,09:15:00,DHCPV6 Request,2001:db8::1:5,"
		"ws6.corp.example.test,0,14,0001000125D1F2A3000C29ABCDEF,,,"
		"2001:db8::\r\n";
	struct seen s;

	(void)state;
	parse_all(&s, 6, NULL, 1, v6, strlen(v6), 1);
	assert_int_equal(s.bad, 0);
	assert_string_equal(
		s.out.buf,
		"7 v6 11010 2026-11-02T00:00:01 [DHCPV6 Started] ip= host= "
		"id=\n"
		"8 v6 11002 2026-11-02T09:15:00 [DHCPV6 Request] "
		"ip=2001:db8::1:5 host=ws6.corp.example.test "
		"id=0001000125D1F2A3000C29ABCDEF err=0 prefix=2001:db8:: "
		"dhcid=\n");
	strbuf_release(&s.out);
}

/* A localised server's column line is not ours: its events are read in
 * the usual column order; a header block again later ends at the next
 * event line, whatever its column line says. */
static void test_localised(void **state)
{
	static const char de[] =
		"\t\tMicrosoft DHCP-Dienstaktivit\xe4tsprotokoll\r\n"
		"Ereignis-ID  Bedeutung\r\n"
		"00\tDas Protokoll wurde gestartet.\r\n"
		"Kennung,Datum,Uhrzeit,Beschreibung,IP-Adresse,Hostname,"
		"MAC-Adresse,Benutzername, Transaktions-ID, QErgebnis,"
		"Probezeit, Korrelations-ID,DHCID,Herstellerklasse(Hex),"
		"Herstellerklasse(ASCII),Benutzerklasse(Hex),"
		"Benutzerklasse(ASCII),Relay-Agent-Informationen,"
		"DNS-Registrierungsfehler.\r\n"
		"10,11/02/26,08:01:15,Zuweisen,198.51.100.7,pc7.example.test,"
		"00155D0A0107,,123,0,,,,,,,,,0\r\n"
		"\t\tMicrosoft DHCP Service Activity Log\r\n"
		"Kennung,Datum,Uhrzeit\r\n"
		"11,11/02/26,09:00:00,Erneuern,198.51.100.7,pc7,00155D0A0107,"
		",124,0,,,,,,,,,0\r\n";
	struct seen s;

	(void)state;
	parse_all(&s, 4, NULL, 1, de, strlen(de), 9);
	assert_int_equal(s.bad, 0);
	assert_string_equal(
		s.out.buf,
		"5 v4 10 2026-11-02T08:01:15 [Zuweisen] ip=198.51.100.7 "
		"host=pc7.example.test id=00155D0A0107 tx=123 q=0 vc=/ dns=0\n"
		"8 v4 11 2026-11-02T09:00:00 [Erneuern] ip=198.51.100.7 "
		"host=pc7 id=00155D0A0107 tx=124 q=0 vc=/ dns=0\n");
	strbuf_release(&s.out);
}

static void test_malformed(void **state)
{
	static const char text[] =
		"ID,Date,Time,Description,IP Address,Host Name,MAC Address\n"
		"10,13/45/26,08:00:00,Assign,10.0.0.1,a,01\n"
		"10,02/29/25,08:00:00,Assign,10.0.0.1,a,01\n"
		"10,02/29/24,08:00:00,Assign,10.0.0.1,a,01\n"
		"1x,01/01/26,08:00:00,Assign,10.0.0.1,a,01\n"
		"10,01/01/26,25:00:00,Assign,10.0.0.1,a,01\n"
		"10,01/01/26,08:00:00,A,B,C,D,E\n"
		"garbage\n"
		"10,01/01/26\n"
		"\n"
		"10,01/01/2026,08:00:00\n"
		"10,01/01/026,08:00:00\n";
	struct seen s;

	(void)state;
	parse_all(&s, 4, NULL, 1, text, strlen(text), 3);
	assert_string_equal(s.out.buf,
			    "2: bad date '13/45/26'\n"
			    "3: bad date '02/29/25'\n"
			    "4 v4 10 2024-02-29T08:00:00 [Assign] ip=10.0.0.1 "
			    "host=a id=01\n"
			    "5: bad event id '1x'\n"
			    "6: bad time '25:00:00'\n"
			    "7: 8 fields where the column line has 7\n"
			    "8: not an event line 'garbage'\n"
			    "9: bad time: empty\n"
			    "11 v4 10 2026-01-01T08:00:00 [] ip= host= id=\n"
			    "12: bad date '01/01/026'\n");
	strbuf_release(&s.out);
}

static void test_resume_and_consumed(void **state)
{
	const char *cols =
		"ID,Date,Time,Description,IP Address,Host Name,MAC "
		"Address,User Name, TransactionID, QResult,"
		"Probationtime, CorrelationID,Dhcid,VendorClass(Hex),"
		"VendorClass(ASCII),UserClass(Hex),UserClass(ASCII),"
		"RelayAgentInformation,DnsRegError.\r\n";
	const char *tail = strstr(current, "\r\n10,") + 2;
	struct ipam_dhcplog *p;
	struct seen s;

	(void)state;
	/* the first pass stops before an incomplete last line */
	memset(&s, 0, sizeof(s));
	strbuf_init(&s.out);
	p = ipam_dhcplog_new(4, NULL, 1, on_event, on_bad, &s);
	assert_null(ipam_dhcplog_columns(p));
	assert_int_equal(ipam_dhcplog_feed(p, current, strlen(current) - 5), 0);
	assert_int_equal(s.events, 1);
	assert_int_equal(ipam_dhcplog_consumed(p), (size_t)(tail - current));
	assert_int_equal(ipam_dhcplog_lines(p), 8);
	assert_string_equal(ipam_dhcplog_columns(p),
			    "ID,Date,Time,Description,IP Address,Host Name,MAC "
			    "Address,User Name, TransactionID, QResult,"
			    "Probationtime, CorrelationID,Dhcid,"
			    "VendorClass(Hex),VendorClass(ASCII),"
			    "UserClass(Hex),UserClass(ASCII),"
			    "RelayAgentInformation,DnsRegError.");
	ipam_dhcplog_free(p);
	strbuf_release(&s.out);

	/* resumed at that offset with the column line and the next line */
	parse_all(&s, 4, cols, 9, tail, strlen(tail), 5);
	assert_int_equal(s.events, 1);
	assert_non_null(strstr(s.out.buf, "9 v4 10 2026-11-02T08:01:15"));
	assert_non_null(strstr(s.out.buf, "id=00155D0A0101"));

	/* without it, the usual columns: the same event */
	{
		char *with = xstrdup(s.out.buf);

		strbuf_release(&s.out);
		parse_all(&s, 4, NULL, 9, tail, strlen(tail), 5);
		assert_string_equal(s.out.buf, with);
		free(with);
	}
	strbuf_release(&s.out);
}

/* A callback sees its line counted; its error stops the parser. */
static void test_stop(void **state)
{
	struct ipam_dhcplog *p;
	struct seen s = {.stop_at = 2};
	size_t first_end = (size_t)(strstr(current, "\r\n10,") + 2 - current);

	(void)state;
	strbuf_init(&s.out);
	p = ipam_dhcplog_new(4, NULL, 1, on_event, on_bad, &s);
	s.p = p;
	assert_int_equal(ipam_dhcplog_feed(p, current, strlen(current)),
			 IPAM_EDB);
	assert_int_equal(s.events, 1);
	assert_int_equal(s.pos[0], first_end);
	assert_int_equal(s.pos[1], 8);
	assert_int_equal(s.pos[2], strlen(current));
	assert_int_equal(s.pos[3], 9);
	assert_int_equal(ipam_dhcplog_feed(p, "00,11/02/26,00:00:04\n", 21),
			 IPAM_EDB);
	assert_int_equal(s.events, 1);
	ipam_dhcplog_free(p);
	strbuf_release(&s.out);

	/* the same for a bad line's callback */
	memset(&s, 0, sizeof(s));
	s.stop_at = -1;
	strbuf_init(&s.out);
	p = ipam_dhcplog_new(4, "ID,Date,Time", 5, on_event, on_bad, &s);
	assert_int_equal(ipam_dhcplog_feed(p, "1,1/1/26,0:0:0\nx\n2", 18),
			 IPAM_ELIMIT);
	assert_string_equal(s.out.buf,
			    "5 v4 1 2026-01-01T00:00:00 [] ip= host= id=\n"
			    "6: not an event line 'x'\n");
	assert_int_equal(ipam_dhcplog_lines(p), 6);
	ipam_dhcplog_free(p);
	strbuf_release(&s.out);
}

static void test_long_line(void **state)
{
	size_t big = 3 * IPAM_DHCPLOG_MAX_LINE;
	struct strbuf text = STRBUF_INIT;
	struct ipam_dhcplog *p;
	struct seen s;

	(void)state;
	strbuf_addstr(&text, "ID,Date,Time,Description\r\n"
			     "10,01/01/26,08:00:00,");
	for (size_t i = 0; i < big; i++)
		strbuf_addch(&text, 'x');
	strbuf_addstr(&text, "\r\n10,01/01/26,08:00:01,after\r\n");
	/* exactly the limit is a line, one more is not */
	strbuf_addstr(&text, "10,01/01/26,08:00:02,");
	while (text.len - (size_t)(strrchr(text.buf, '\n') + 1 - text.buf) <
	       IPAM_DHCPLOG_MAX_LINE)
		strbuf_addch(&text, 'y');
	strbuf_addstr(&text, "\r\n10,01/01/26,08:00:03,");
	while (text.len - (size_t)(strrchr(text.buf, '\n') + 1 - text.buf) <
	       IPAM_DHCPLOG_MAX_LINE + 1)
		strbuf_addch(&text, 'z');
	strbuf_addstr(&text, "\n");
	for (size_t piece = 1; piece < 70000; piece = piece * 7 + 3) {
		memset(&s, 0, sizeof(s));
		strbuf_init(&s.out);
		p = ipam_dhcplog_new(4, NULL, 1, on_event, on_bad, &s);
		for (size_t at = 0; at < text.len; at += piece)
			assert_int_equal(
				ipam_dhcplog_feed(p, text.buf + at,
						  text.len - at < piece
							  ? text.len - at
							  : piece),
				0);
		assert_int_equal(s.events, 2);
		assert_int_equal(s.bad, 2);
		assert_int_equal(ipam_dhcplog_consumed(p), text.len);
		assert_int_equal(ipam_dhcplog_lines(p), 5);
		assert_non_null(strstr(s.out.buf,
				       "2: line longer than 8192 bytes\n"
				       "3 v4 10 2026-01-01T08:00:01 "
				       "[after]"));
		assert_non_null(
			strstr(s.out.buf, "4 v4 10 2026-01-01T08:00:02"));
		assert_non_null(
			strstr(s.out.buf, "5: line longer than 8192 bytes\n"));
		ipam_dhcplog_free(p);
		strbuf_release(&s.out);
	}
	strbuf_release(&text);
}

/* Both formats, the fast readings (fixed-width dates, untrimmed fields)
 * and the general ones, fields across the parser's 16-byte steps, bad
 * lines, a NUL, a new header, CRLF and LF. */
static const char mixed[] =
	"\t\tMicrosoft DHCP Service Activity Log\r\n\r\n"
	"ID,Date,Time,Description,IP Address,Host Name,MAC Address,User "
	"Name, TransactionID, QResult,Probationtime, CorrelationID,Dhcid,"
	"VendorClass(Hex),VendorClass(ASCII),UserClass(Hex),UserClass(ASCII),"
	"RelayAgentInformation,DnsRegError.\r\n"
	"10,11/06/26,08:01:15,Assign,10.16.0.1,ws1.corp.example.test,"
	"00155D000001,,1000001,0,,,,0x4D53465420352E30,MSFT 5.0,,,,0\r\n"
	"11, 11/6/26 ,\t8:1:15\t,  Renew  ,010.1.2.3 ,WS2\\x.Corp,"
	" 00-15-5D-00-00-02 ,,1000002,0,,,,0x4D53465420352E30,MSFT 5.0,,,,0\n"
	"12,11/06/2026,23:59:60,A long description over sixteen bytes,"
	"10.16.0.255,a-very-long-host-name-of-more-than-forty-bytes.test,"
	"0015.5d00.0003,user,1,0,,,,,,,,,0\r\n"
	"13,02/30/26,08:00:00,Bad,,,,,,,,,,,,,,,\r\n"
	"14,11/06/26,24:00:00,Bad,,,,,,,,,,,,,,,\r\n"
	"15,11/06/26,08:00:00,,,,,,,,,,,,,,,,,,,,\r\n"
	"16,1a/06/26,08:00:00,Bad\r\n"
	"17,02/29/28,08:00:00,Leap\r\n"
	"18,11/06/26,08:0a:00,Bad\r\n"
	"\r\n"
	"19,11/06/26,08:00:00,N\0ul\r\n"
	"ID,Date,Time,Description,IPv6 Address,Host Name,Error Code, "
	"Duid Length, Duid Bytes(Hex),User Name,Dhcid,Subnet Prefix\r\n"
	"11000,11/06/26,08:00:00,Solicit,2001:db8::1,h6,0,14,"
	"000100012B3C4D5E00155D0A0101,,,2001:db8::/64\r\n"
	"\t\tMicrosoft DHCPv6 Service Activity Log\r\n"
	"Event ID  Meaning\r\n"
	"11001,11/06/26,08:00:01,Advertise,2001:db8::2,h7,0,14,"
	"000100012B3C4D5E00155D0A0102,,,2001:db8::/64\n"
	"10,11/06/26,08:00:02,held";

static void test_fast_and_general(void **state)
{
	struct seen s;

	(void)state;
	parse_all(&s, 4, NULL, 1, mixed, sizeof(mixed) - 1, 4096);
	assert_string_equal(
		s.out.buf,
		"4 v4 10 2026-11-06T08:01:15 [Assign] ip=10.16.0.1 "
		"host=ws1.corp.example.test id=00155D000001 tx=1000001 q=0 "
		"vc=0x4D53465420352E30/MSFT 5.0 dns=0\n"
		"5 v4 11 2026-11-06T08:01:15 [Renew] ip=010.1.2.3 "
		"host=WS2\\x.Corp id=00-15-5D-00-00-02 tx=1000002 q=0 "
		"vc=0x4D53465420352E30/MSFT 5.0 dns=0\n"
		"6 v4 12 2026-11-06T23:59:60 [A long description over sixteen "
		"bytes] ip=10.16.0.255 "
		"host=a-very-long-host-name-of-more-than-forty-bytes.test "
		"id=0015.5d00.0003 tx=1 q=0 vc=/ dns=0\n"
		"7: bad date '02/30/26'\n"
		"8: bad time '24:00:00'\n"
		"9: 23 fields where the column line has 19\n"
		"10: bad date '1a/06/26'\n"
		"11 v4 17 2028-02-29T08:00:00 [Leap] ip= host= id=\n"
		"12: bad time '08:0a:00'\n"
		"14: NUL byte in the line\n"
		"16 v6 11000 2026-11-06T08:00:00 [Solicit] ip=2001:db8::1 "
		"host=h6 id=000100012B3C4D5E00155D0A0101 err=0 "
		"prefix=2001:db8::/64 dhcid=\n"
		"19 v6 11001 2026-11-06T08:00:01 [Advertise] ip=2001:db8::2 "
		"host=h7 id=000100012B3C4D5E00155D0A0102 err=0 "
		"prefix=2001:db8::/64 dhcid=\n");
	/* all but the line with a '\\' */
	assert_int_equal(s.events, 6);
	assert_int_equal(s.plain, 5);
	strbuf_release(&s.out);
}

/* Fed in two pieces split at every byte (a line whole in a piece, split
 * across two, a CR at the end of the first): what one piece gives. */
static void test_split_everywhere(void **state)
{
	struct seen whole, s;

	(void)state;
	parse_all(&whole, 4, NULL, 1, mixed, sizeof(mixed) - 1, sizeof(mixed));
	for (size_t k = 0; k < sizeof(mixed); k++) {
		struct ipam_dhcplog *p;

		memset(&s, 0, sizeof(s));
		strbuf_init(&s.out);
		p = ipam_dhcplog_new(4, NULL, 1, on_event, on_bad, &s);
		assert_int_equal(ipam_dhcplog_feed(p, mixed, k), 0);
		assert_int_equal(
			ipam_dhcplog_feed(p, mixed + k, sizeof(mixed) - 1 - k),
			0);
		assert_string_equal(s.out.buf, whole.out.buf);
		assert_int_equal(s.plain, whole.plain);
		assert_int_equal(ipam_dhcplog_consumed(p),
				 sizeof(mixed) - 1 -
					 strlen("10,11/06/26,08:00:02,held"));
		ipam_dhcplog_free(p);
		strbuf_release(&s.out);
	}
	strbuf_release(&whole.out);
}

/* The lab's files: every line after the column line is an event. */
static void test_lab_fixtures(void **state)
{
	static const char *const days[] = {"Mon", "Tue", "Wed"};
	static const int events[] = {12, 7, 1};

	(void)state;
	for (int d = 0; d < 3; d++) {
		char *path = xasprintf("%s/lab/audit/DhcpSrvLog-%s.log",
				       fixtures_dir(), days[d]);
		size_t len;
		char *text = slurp(path, &len);
		struct seen s;

		assert_non_null(text);
		assert_int_equal(ipam_dhcplog_family(path), 4);
		parse_all(&s, 4, NULL, 1, text, len, 13);
		assert_int_equal(s.bad, 0);
		assert_int_equal(s.events, events[d]);
		if (d == 1)
			assert_non_null(strstr(
				s.out.buf,
				"37 v4 15 2026-11-03T08:14:02 [NACK] "
				"ip=198.51.100.150 host= id=00155D0A0150"));
		strbuf_release(&s.out);
		free(text);
		free(path);
	}
}

static void test_family(void **state)
{
	(void)state;
	assert_int_equal(ipam_dhcplog_family("DhcpSrvLog-Mon.log"), 4);
	assert_int_equal(ipam_dhcplog_family("dhcpsrvlog-sun.LOG"), 4);
	assert_int_equal(ipam_dhcplog_family("DhcpV6SrvLog-Tue.log"), 6);
	assert_int_equal(ipam_dhcplog_family("x/DhcpV6SrvLog-Tue.log"), 6);
	assert_int_equal(ipam_dhcplog_family("DhcpSrvLog-Mon.txt"), 0);
	assert_int_equal(ipam_dhcplog_family("dhcp.mdb"), 0);
}

static void test_client_id(void **state)
{
	static const char *const ok[][2] = {
		{"00:15:5D:0A:01:01", "00155d0a0101"},
		{"00-15-5d-0a-01-01", "00155d0a0101"},
		{"0015.5d0a.0101", "00155d0a0101"},
		{"00155D0A0101", "00155d0a0101"},
		{" 0:15:5d:a:1:1 ", "00155d0a0101"},
		{"0x00155d0a0101", "00155d0a0101"},
		{"00:01:00:01:25:d1:f2:a3:00:0c:29:ab:cd:ef",
		 "0001000125d1f2a3000c29abcdef"},
	};
	static const char *const bad[] = {
		"",
		"zz:zz",
		"00:15:5d:0a:01:",
		"001:15",
		"0015-5d",
		"00155d0a010",
		"00:15-5d",
		"::",
		"0015.5d0a.010",
		"00 15 5d 0a",
	};
	struct strbuf out = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		strbuf_reset(&out);
		assert_int_equal(ipam_client_id_normalize(&out, ok[i][0]), 0);
		assert_string_equal(out.buf, ok[i][1]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strbuf_reset(&out);
		assert_int_equal(ipam_client_id_normalize(&out, bad[i]),
				 IPAM_EINVAL);
		assert_string_equal(out.buf, "");
		assert_non_null(strstr(ipam_error_last(), "not a MAC"));
	}
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_current_format),
		cmocka_unit_test(test_old_format_lf),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_localised),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_resume_and_consumed),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_fast_and_general),
		cmocka_unit_test(test_split_everywhere),
		cmocka_unit_test(test_lab_fixtures),
		cmocka_unit_test(test_family),
		cmocka_unit_test(test_client_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
