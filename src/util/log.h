/*
 * One small logger.  Library code logs at most warnings and progress;
 * only main decides what is an error worth printing and the exit status.
 * Messages go to stderr; under systemd (JOURNAL_STREAM naming the device
 * and inode of stderr, or of stdout for what goes there) each line
 * carries its syslog priority ("<4>") so journald keeps the level.
 * Every message is escaped by text.h's rule on its way out: whatever a
 * value from YAML, AD, DNS, DHCP or git holds, it stays visible text on
 * the message's one line.
 */
#ifndef IPAM_LOG_H
#define IPAM_LOG_H

#include <stdio.h>

enum ipam_log_level {
	IPAM_LOG_ERROR = 3,
	IPAM_LOG_WARNING = 4,
	IPAM_LOG_NOTICE = 5,
	IPAM_LOG_INFO = 6,
	IPAM_LOG_DEBUG = 7,
};

void ipam_log_init(const char *progname);
void ipam_log_set_level(enum ipam_log_level level);
enum ipam_log_level ipam_log_get_level(void);
void ipam_log(enum ipam_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A line that is a message of its own (a file:line:col diagnostic) to f
 * (stdout or stderr), escaped, with its priority when f goes to the
 * journal; whatever the level threshold. */
void ipam_log_line(FILE *f, enum ipam_log_level level, const char *line);

#define log_error(...)	ipam_log(IPAM_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)	ipam_log(IPAM_LOG_WARNING, __VA_ARGS__)
#define log_notice(...) ipam_log(IPAM_LOG_NOTICE, __VA_ARGS__)
#define log_info(...)	ipam_log(IPAM_LOG_INFO, __VA_ARGS__)
#define log_debug(...)	ipam_log(IPAM_LOG_DEBUG, __VA_ARGS__)

#endif
