/*
 * Fault injection for the crash-safety test (tests/integration/lab/
 * test_lab_crash.c): the adapters call ipam_fault_point() right after
 * each write to AD (LDAP add, modify, delete) or SYSVOL (file written,
 * folder made, file or folder removed, ACL set), once the server has
 * answered, whatever it answered.
 *
 * In ipamctl, and in every program linked with the util library alone,
 * the call does nothing: util's fault.c is built without
 * IPAM_FAULT_INJECTION.  Only ipamctl-fault, a test program built when
 * the CMake option IPAM_FAULT_INJECTION is on (refused in Release builds,
 * never installed nor packaged), compiles fault.c again with it; there
 * the environment decides:
 *
 *   IPAM_FAULT_AFTER=k         abort (SIGABRT, no core dump, no cleanup of
 *                              any kind: as close to kill -9 as a process
 *                              gets by itself) right after the k-th write;
 *   IPAM_FAULT_COUNT_FILE=PATH append one line per write to PATH (0600):
 *                              "<n> <operation> <target>"; the last line
 *                              of a full run says how many writes it made,
 *                              and before an injected abort the line
 *                              "abort after write <k> (pid <pid>)"
 *                              follows (on standard error too).
 *
 * Writes are counted per process (ipamctl's children, smbcacls and kinit,
 * are not ipamctl's writes: the call after smbcacls --set counts it).
 */
#ifndef IPAM_FAULT_H
#define IPAM_FAULT_H

/* One write to AD or SYSVOL was made: op says what ("ldap add", "smb
 * write"), target where (a DN, a UNC path). */
void ipam_fault_point(const char *op, const char *target);

#endif
