#!/usr/bin/python3
"""Let a SID read a Samba AD DC's event logs: add (A;;MASK;;;SID) to the NT
ACL (acl_xattr, as smbd's VFS reads it) of each event log tdb, in one
process (samba-tool ntacl get + set would start Python twice a file).

Usage: eventlog_acl.py --smbconf FILE --sid SID --mask MASK TDB...
"""

import argparse

from samba.auth import system_session
from samba.auth_util import system_session_unix
from samba.dcerpc import security
from samba.ntacls import getntacl, setntacl
from samba.param import LoadParm
from samba.samba3 import param as s3param
from samba.samdb import SamDB


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smbconf", required=True)
    ap.add_argument("--sid", required=True)
    ap.add_argument("--mask", required=True)
    ap.add_argument("tdb", nargs="+")
    args = ap.parse_args()

    lp = LoadParm()
    lp.load(args.smbconf)
    samdb = SamDB(session_info=system_session(), lp=lp)
    s3conf = s3param.get_context()
    s3conf.load(lp.configfile)
    s3conf.set("passdb backend", "samba_dsdb:%s" % samdb.url)
    domsid = security.dom_sid(samdb.domain_sid)
    ace = "(A;;%s;;;%s)" % (args.mask, args.sid)
    for path in args.tdb:
        sd = getntacl(lp, path, system_session_unix(), direct_db_access=False)
        sddl = sd.as_sddl(domsid)
        setntacl(lp, path, sddl + ace, str(domsid), system_session_unix(),
                 use_ntvfs=False)
        print("%s: %s" % (path, getntacl(lp, path, system_session_unix(),
                                         direct_db_access=False)
                          .as_sddl(domsid)))


if __name__ == "__main__":
    main()
