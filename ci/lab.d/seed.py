#!/usr/bin/python3
"""Seed a freshly provisioned (not yet started) Samba AD DC offline.

Opens the DC's sam.ldb directly with Samba's own Python bindings, as the
system session, and
  - sets the Administrator password from a file (so it never appears on a
    command line), and any other account's the same way (--password
    SAM=FILE, after the LDIF: the IPAM server's computer account),
  - adds the entries of LDIF files,
  - adds A / NS records to the domain's AD-integrated DNS zone from a
    "name type data" list.

Usage: seed.py --smbconf FILE --admin-password-file FILE
               [--ldif FILE]... [--dns FILE] [--password SAM=FILE]...
"""

import argparse
import sys

import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.provision.sambadns import ARecord, NSRecord
from samba.samdb import SamDB
from samba.ndr import ndr_pack


def die(msg):
    sys.stderr.write("seed.py: %s\n" % msg)
    sys.exit(1)


def read_secret(path):
    with open(path, encoding="utf-8") as f:
        secret = f.read()
    if not secret or "\n" in secret:
        die("%s: expected one line without a newline" % path)
    return secret


def add_ldif(samdb, path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    count = 0
    for changetype, msg in samdb.parse_ldif(text):
        if changetype == ldb.CHANGETYPE_MODIFY:
            samdb.modify(msg)
        else:
            samdb.add(msg)
        count += 1
    return count


def parse_dns_list(path):
    """Return {name: [record, ...]} in file order."""
    records = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            fields = line.split()
            if len(fields) != 3:
                die("%s:%d: expected 'name type data'" % (path, lineno))
            name, rtype, data = fields
            rtype = rtype.upper()
            if rtype == "A":
                rec = ARecord(data)
            elif rtype == "NS":
                rec = NSRecord(data)
            else:
                die("%s:%d: unsupported record type '%s'" %
                    (path, lineno, rtype))
            records.setdefault(name, []).append(rec)
    return records


def add_dns(samdb, path, zone):
    zone_dn = "DC=%s,CN=MicrosoftDNS,DC=DomainDnsZones,%s" % (
        zone, samdb.domain_dn())
    count = 0
    for name, recs in parse_dns_list(path).items():
        dn = ldb.Dn(samdb, "DC=%s,%s" % (name, zone_dn))
        values = [ndr_pack(r) for r in recs]
        try:
            samdb.search(base=dn, scope=ldb.SCOPE_BASE, attrs=[])
            exists = True
        except ldb.LdbError as e:
            if e.args[0] != ldb.ERR_NO_SUCH_OBJECT:
                raise
            exists = False
        msg = ldb.Message(dn)
        msg["dnsRecord"] = ldb.MessageElement(values, ldb.FLAG_MOD_ADD,
                                              "dnsRecord")
        if exists:
            samdb.modify(msg)
        else:
            msg["objectClass"] = ["top", "dnsNode"]
            samdb.add(msg)
        count += len(values)
    return count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smbconf", required=True)
    ap.add_argument("--admin-password-file", required=True)
    ap.add_argument("--ldif", action="append", default=[])
    ap.add_argument("--dns")
    ap.add_argument("--password", action="append", default=[],
                    metavar="SAM=FILE")
    args = ap.parse_args()

    lp = LoadParm()
    lp.load(args.smbconf)
    # batch_mode: no sub-transaction per add (whose index merge copies
    # every index list an add touches, quadratic in the objects added);
    # the one transaction below is all or nothing anyway.  The cache
    # size is the one Samba's provision uses with it.
    samdb = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp,
                  options=["batch_mode:1",
                           "transaction_index_cache_size:202481"])
    zone = lp.get("realm").lower()

    samdb.transaction_start()
    try:
        samdb.setpassword("(sAMAccountName=Administrator)",
                          read_secret(args.admin_password_file))
        for path in args.ldif:
            n = add_ldif(samdb, path)
            print("seed: %s: %d entries" % (path, n))
        if args.dns:
            n = add_dns(samdb, args.dns, zone)
            print("seed: %s: %d records in %s" % (args.dns, n, zone))
        for spec in args.password:
            sam, sep, path = spec.partition("=")
            if not sep or not sam or not path:
                die("--password: expected SAM=FILE, got '%s'" % spec)
            samdb.setpassword("(sAMAccountName=%s)" % ldb.binary_encode(sam),
                              read_secret(path))
            print("seed: password of %s set" % sam)
    except Exception:
        samdb.transaction_cancel()
        raise
    samdb.transaction_commit()


if __name__ == "__main__":
    main()
