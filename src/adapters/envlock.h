/*
 * The lock around what a process holds only once: the environment
 * (KRB5CCNAME and KRB5_CLIENT_KTNAME, which the Kerberos library reads
 * from it), the umask, and libsmbclient, whose configuration (loadparm)
 * and talloc stack are global.  The SMB adapter takes it for every call
 * into libsmbclient and for the Samba tools it runs with a cache in the
 * environment; the LDAP adapter for a Kerberos bind.  Domains handled on
 * several threads at once therefore meet only here.  Recursive: a holder
 * may take it again.  It counts how long it was waited for and held, so
 * that what it costs a parallel run can be measured (-v says it).
 */
#ifndef IPAM_ENVLOCK_H
#define IPAM_ENVLOCK_H

struct ipam_envlock_stats {
	unsigned long long taken; /* outermost acquisitions */
	double wait_s;		  /* time spent waiting for it */
	double held_s;		  /* time it was held (outermost) */
};

void ipam_envlock_acquire(void);
void ipam_envlock_release(void);
/* The counts since the process started. */
void ipam_envlock_stats(struct ipam_envlock_stats *out);

#endif
