#!/usr/bin/python3
"""Bind MS-DHCPM (dhcpsrv2 over \\pipe\\dhcpserver) on a lab host as the IPAM
identity, with python3-impacket, and print one line: "bound" or
"error <exception class>: <message>".  Exit 0 either way, 2 on bad usage.

Usage: dhcpm_bind.py HOST kerberos KDC      (ticket cache: $KRB5CCNAME;
                                             impacket wants no FILE: prefix)
       dhcpm_bind.py HOST password FILE     (NTLM; user and domain from
                                             $IPAM_LAB_IPAM_PRINCIPAL)
"""

import os
import sys

from impacket.dcerpc.v5 import dhcpm, transport
from impacket.dcerpc.v5.rpcrt import (RPC_C_AUTHN_GSS_NEGOTIATE,
                                      RPC_C_AUTHN_LEVEL_PKT_PRIVACY)


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in ("kerberos", "password"):
        sys.stderr.write(__doc__)
        return 2
    host, how, arg = sys.argv[1:]
    user, _, realm = os.environ["IPAM_LAB_IPAM_PRINCIPAL"].partition("@")
    cc = os.environ.get("KRB5CCNAME", "")
    if cc.startswith("FILE:"):
        os.environ["KRB5CCNAME"] = cc[len("FILE:"):]
    t = transport.DCERPCTransportFactory(r"ncacn_np:%s[\pipe\dhcpserver]" %
                                         host)
    t.set_connect_timeout(5)
    if how == "kerberos":
        t.set_credentials(user, "", realm, "", "", None)
        t.set_kerberos(True, kdcHost=arg)
    else:
        with open(arg, encoding="utf-8") as f:
            password = f.read()
        t.set_credentials(user, password, realm.split(".")[0], "", "", None)
    try:
        dce = t.get_dce_rpc()
        dce.set_auth_level(RPC_C_AUTHN_LEVEL_PKT_PRIVACY)
        if how == "kerberos":
            dce.set_auth_type(RPC_C_AUTHN_GSS_NEGOTIATE)
        dce.connect()
        dce.bind(dhcpm.MSRPC_UUID_DHCPSRV2)
        print("bound")
    except Exception as e:  # pylint: disable=broad-except
        print("error %s: %s" % (type(e).__name__, e))
    return 0


if __name__ == "__main__":
    sys.exit(main())
