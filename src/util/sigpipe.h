/*
 * Network libraries (libldap, libsmbclient) write to sockets with
 * write(2): a peer that went away raises SIGPIPE, which kills a program
 * that did not ask for it.  Their adapters hold SIGPIPE blocked around
 * each call and swallow one the call caused, leaving the caller's
 * disposition alone.
 */
#ifndef IPAM_SIGPIPE_H
#define IPAM_SIGPIPE_H

#include <signal.h>

struct ipam_sigpipe {
	sigset_t old;
	int pending; /* already pending before: not ours to swallow */
};

void ipam_sigpipe_block(struct ipam_sigpipe *g);
void ipam_sigpipe_restore(struct ipam_sigpipe *g);

#endif
