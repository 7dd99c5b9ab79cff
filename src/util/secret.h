/*
 * Secrets named by the desired state: read from a file or an environment
 * variable when needed, never copied into logs, messages or the database,
 * and wiped from memory after use.
 */
#ifndef IPAM_SECRET_H
#define IPAM_SECRET_H

#include "strbuf.h"

#define IPAM_SECRET_MAX 4096

/*
 * The secret in file (one trailing newline dropped) or in the environment
 * variable env, into out.  IPAM_EIO / IPAM_ENOTFOUND / IPAM_ELIMIT with a
 * message naming the file or variable, never the content.  A file readable
 * by others is accepted with a warning.
 */
int ipam_secret_read(struct strbuf *out, const char *file, const char *env);
/* Zero the buffer's memory, then release it. */
void ipam_secret_wipe(struct strbuf *sb);

#endif
