#!/usr/bin/python3
"""The independent hand and eye of test_lab_crash.c, in one process.

test_lab_crash resets a forest and checks it after each of some hundred
interrupted applies; samba-tool would pay its start-up (a second and more)
for every look.  This process pays it once and then answers commands on
its standard input, one a line, with Samba's own Python bindings (ldb for
AD, libsmb for SYSVOL) and, for the ACL check, the very functions of
`samba-tool gpo aclcheck` (get_gpo_info, dsacl2fsacl): nothing of ipamctl.

  open N     connect to forest N of the lab (IPAM_LAB_<N>_*) and take its
             baseline: the GPO containers, the SYSVOL Policies folders, the
             domain head's gPLink and the DACL of CN=MicrosoftDNS
  reset N    back to the baseline: every other container (with its
             children) and folder removed, gPLink and that DACL written
             back, IPAMUG deleted
  check N    what a converged forest must be: each IPAM1 GPO exactly once
             and no other IPAM1_* one; a SYSVOL folder for each container
             and a container for each folder; gPLink naming each IPAM1 GPO
             once and no missing GPO; GPT.INI's version the container's
             versionNumber; aclcheck clean; IPAMUG once (what the baseline
             had is left out of the comparisons: other tests' leftovers
             are not this test's to judge)
  quit

Each answer is zero or more lines, then "END ok" or "END fail"; a failed
check's lines each start "problem: ".
"""
import os
import re
import sys
import traceback

import ldb
from samba.credentials import Credentials
from samba.dcerpc import security
from samba.ndr import ndr_unpack
from samba.netcmd.gpo import get_gpo_info, parse_unc, smb_connection
from samba.ntacls import dsacl2fsacl
from samba.param import LoadParm
from samba.samdb import SamDB

NAMES = ('IPAM1_DHCP', 'IPAM1_DNS', 'IPAM1_DC_NPS')
SECINFO = (security.SECINFO_OWNER | security.SECINFO_GROUP |
           security.SECINFO_DACL)
ATTR_DIRECTORY = 0x10


def first(msg, attr):
    if attr not in msg:
        return None
    return bytes(msg[attr][0])


class Forest:
    def __init__(self, n):
        def env(key):
            return os.environ['IPAM_LAB_%d_%s' % (n, key)]

        self.domain = env('DOMAIN')
        self.lp = LoadParm()
        self.lp.load_default()
        self.creds = Credentials()
        self.creds.guess(self.lp)
        self.creds.parse_file(env('SMB_AUTH_FILE'))
        self.db = SamDB(url=env('LDAP_URI'), credentials=self.creds,
                        lp=self.lp)
        self.base = str(self.db.domain_dn())
        self.policies = 'CN=Policies,CN=System,' + self.base
        self.dns_dn = 'CN=MicrosoftDNS,CN=System,' + self.base
        self.sid = security.dom_sid(self.db.get_domain_sid())
        self.conn = smb_connection(env('DC'), 'sysvol', self.lp, self.creds)
        self.folder = self.domain + '\\Policies'
        self.gpc0 = set(self.containers())
        self.dir0 = set(self.folders())
        self.gplink0 = self.read(self.base, 'gPLink')
        self.link0 = set(self.linked(self.gplink0))
        self.dns_sd0 = self.read(self.dns_dn, 'nTSecurityDescriptor',
                                 ['sd_flags:1:4'])

    # ---- reading ----------------------------------------------------

    def read(self, dn, attr, controls=None):
        r = self.db.search(base=dn, scope=ldb.SCOPE_BASE, attrs=[attr],
                           controls=controls or [])
        return first(r[0], attr)

    def containers(self):
        """CN (upper case) -> displayName (or None) of every GPO."""
        r = self.db.search(base=self.policies, scope=ldb.SCOPE_ONELEVEL,
                           expression='(objectClass=groupPolicyContainer)',
                           attrs=['cn', 'displayName'])
        out = {}
        for m in r:
            name = first(m, 'displayName')
            out[str(m['cn'][0]).upper()] = name.decode() if name else None
        return out

    def folders(self):
        """Upper-case name -> name of every folder under Policies."""
        return {e['name'].upper(): e['name']
                for e in self.conn.list(self.folder)
                if e['attrib'] & ATTR_DIRECTORY}

    @staticmethod
    def linked(gplink):
        """The GUIDs (upper case, braced) a gPLink value names, in order."""
        text = (gplink or b'').decode()
        return [g.upper() for g in
                re.findall(r'CN=(\{[^}]*\}),CN=Policies', text, re.I)]

    def ipamug(self):
        return self.db.search(base=self.base, scope=ldb.SCOPE_SUBTREE,
                              expression='(sAMAccountName=IPAMUG)',
                              attrs=['objectSid'])

    # ---- writing ----------------------------------------------------

    def put(self, dn, attr, value, controls=None):
        """Write value (None: remove attr) when it differs."""
        if self.read(dn, attr, controls) == value:
            return
        m = ldb.Message()
        m.dn = ldb.Dn(self.db, dn)
        if value is None:
            m[attr] = ldb.MessageElement([], ldb.FLAG_MOD_DELETE, attr)
        else:
            m[attr] = ldb.MessageElement(value, ldb.FLAG_MOD_REPLACE, attr)
        self.db.modify(m, controls=controls or [])

    def reset(self):
        self.put(self.dns_dn, 'nTSecurityDescriptor', self.dns_sd0,
                 ['sd_flags:1:4'])
        self.put(self.base, 'gPLink', self.gplink0)
        for cn in set(self.containers()) - self.gpc0:
            self.db.delete('CN=%s,%s' % (cn, self.policies),
                           ['tree_delete:1'])
        for up, name in self.folders().items():
            if up not in self.dir0:
                self.conn.deltree(self.folder + '\\' + name)
        for m in self.ipamug():
            self.db.delete(m.dn)
        return []

    # ---- the checks -------------------------------------------------

    def check(self):
        p = []
        gpc = self.containers()
        names = [v for v in gpc.values() if v and v.startswith('IPAM1_')]
        for n in NAMES:
            if names.count(n) != 1:
                p.append('%d GPOs named %s' % (names.count(n), n))
        for n in sorted(set(names) - set(NAMES)):
            p.append('a GPO named %s' % n)
        # what the lab had before (other tests' leftovers included) is
        # not this test's to judge
        dirs = self.folders()
        for cn in sorted(set(gpc) - set(dirs) - self.gpc0):
            p.append('container %s (%s) has no SYSVOL folder' %
                     (cn, gpc[cn]))
        for up in sorted(set(dirs) - set(gpc) - self.dir0):
            p.append('SYSVOL folder %s has no container' % dirs[up])
        linked = self.linked(self.read(self.base, 'gPLink'))
        for cn in sorted(set(linked) - set(gpc) - self.link0):
            p.append('gPLink names %s, which does not exist' % cn)
        for cn, name in sorted(gpc.items()):
            if name in NAMES and linked.count(cn) != 1:
                p.append('%s (%s) linked %d times' %
                         (name, cn, linked.count(cn)))
        gpos = [m for m in get_gpo_info(self.db, None)
                if str(m['name'][0]).upper() not in self.gpc0]
        p += self.versions(gpos, gpc, dirs)
        p += self.aclcheck(gpos)
        n = len(self.ipamug())
        if n != 1:
            p.append('%d IPAMUG groups' % n)
        return p

    def versions(self, gpos, gpc, dirs):
        p = []
        for m in gpos:
            cn = str(m['name'][0]).upper()
            if cn not in dirs:
                continue
            path = '%s\\%s\\GPT.INI' % (self.folder, dirs[cn])
            try:
                ini = self.conn.loadfile(path).decode('utf-8', 'replace')
            except Exception as e:
                p.append('%s: GPT.INI unreadable: %s' % (gpc[cn], e))
                continue
            v = re.search(r'^\s*Version\s*=\s*(\d+)', ini, re.M | re.I)
            ad = int(first(m, 'versionNumber') or b'-1')
            if not v or int(v.group(1)) != ad:
                p.append('%s: GPT.INI version %s, versionNumber %d' %
                         (gpc[cn], v.group(1) if v else 'missing', ad))
        return p

    def aclcheck(self, gpos):
        """samba-tool gpo aclcheck's comparison, on every GPO made since
        the baseline, no stop at the first difference."""
        p = []
        for m in gpos:
            unc = str(m['gPCFileSysPath'][0])
            name = str(m['displayName'][0]) if 'displayName' in m else '?'
            try:
                path = parse_unc(unc)[2]
                fs = self.conn.get_acl(path, SECINFO,
                                       security.SEC_FLAG_MAXIMUM_ALLOWED)
            except Exception as e:
                p.append('aclcheck %s: cannot read %s: %s' % (name, unc, e))
                continue
            ds = ndr_unpack(security.descriptor,
                            m['nTSecurityDescriptor'][0]).as_sddl()
            want = dsacl2fsacl(ds, self.sid)
            got = fs.as_sddl(self.sid)
            if got != want:
                p.append('aclcheck %s: SYSVOL ACL %s, should be %s' %
                         (name, got, want))
        return p


def main():
    forests = {}
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == 'quit':
            break
        try:
            n = int(words[1])
            if words[0] == 'open':
                forests[n] = Forest(n)
                problems = []
            elif words[0] == 'reset':
                problems = forests[n].reset()
            elif words[0] == 'check':
                problems = forests[n].check()
            else:
                raise ValueError('unknown command %r' % line)
            for s in problems:
                print('problem: ' + s.replace('\n', ' '))
            print('END ' + ('fail' if problems else 'ok'))
        except Exception:
            for s in traceback.format_exc().splitlines():
                print('error: ' + s)
            print('END fail')
        sys.stdout.flush()


main()
