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

  - bulk data for benchmarks (--bulk-ldif, --bulk-dns): the first entry
    of each goes through Samba's whole module stack as above; every other
    one is a copy of the stored first with its own DN, names, objectGUID
    and objectSid (a RID far above the DC's RID pool), written straight
    into the partition's database file without the module stack, then
    every index is rebuilt through the stack (as dbcheck --reindex) and
    a search through the stack checks every copy is found.
    Bulk entries must all be of one shape: the attributes of the first
    entry, plain strings, no DN-valued ones (the benchmarks' computers).

Usage: seed.py --smbconf FILE --admin-password-file FILE
               [--ldif FILE]... [--dns FILE] [--password SAM=FILE]...
               [--bulk-ldif FILE]... [--bulk-dns FILE]
"""

import argparse
import os
import sys
import uuid

import ldb
import samba
from samba.dcerpc import misc, security
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


def zone_dn_of(samdb, zone):
    return "DC=%s,CN=MicrosoftDNS,DC=DomainDnsZones,%s" % (
        zone, samdb.domain_dn())


def add_dns(samdb, path, zone, records=None):
    zone_dn = zone_dn_of(samdb, zone)
    count = 0
    if records is None:
        records = parse_dns_list(path)
    for name, recs in records.items():
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


# ---- bulk data (benchmarks) ----

# RIDs of the bulk copies: far above any RID pool the DC hands out.
BULK_RID_BASE = 1000000


def read_adds(samdb, path):
    """The entries of an LDIF of adds, as plain values (they outlive
    samdb): (dn, parent dn, RDN name, RDN value, {attribute: [bytes]})."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    out = []
    for changetype, msg in samdb.parse_ldif(text):
        if changetype == ldb.CHANGETYPE_MODIFY:
            die("%s: bulk entries are adds only" % path)
        values = {a: [bytes(v) for v in msg[a]] for a in msg
                  if a.lower() != "dn"}
        out.append((str(msg.dn), str(msg.dn.parent()),
                    msg.dn.get_rdn_name(), msg.dn.get_rdn_value(), values))
    return out


def add_entry(samdb, entry):
    m = ldb.Message(ldb.Dn(samdb, entry[0]))
    for a, vals in entry[4].items():
        m[a] = ldb.MessageElement(vals, ldb.FLAG_MOD_ADD, a)
    samdb.add(m)


def partition_file(lp, dn):
    """The database file of the partition holding dn."""
    d = lp.samdb_url()
    if d.startswith("tdb://"):
        d = d[len("tdb://"):]
    d += ".d"
    want = "," + str(dn).upper()
    best = None
    for f in os.listdir(d):
        if not f.endswith(".ldb"):
            continue
        part = f[:-len(".ldb")]
        if want.endswith("," + part) and (not best or len(part) > len(best)):
            best = part
    if not best:
        die("no partition holds '%s'" % dn)
    return os.path.join(d, best + ".ldb")


def template_of(raw, dn):
    """The stored attributes of dn, as (name, [values])."""
    res = raw.search(base=dn, scope=ldb.SCOPE_BASE, attrs=["*"])
    if len(res) != 1:
        die("bulk template '%s' not found" % dn)
    skip = ("dn", "distinguishedname")
    return [(a, [bytes(v) for v in res[0][a]]) for a in res[0]
            if a.lower() not in skip]


def new_guid():
    return ndr_pack(misc.GUID(str(uuid.uuid4())))


def clone(raw, tmpl, dn, values):
    """Add dn to raw as a copy of tmpl with values (name -> [bytes])."""
    m = ldb.Message(ldb.Dn(raw, dn))
    lower = {k.lower() for k in values}
    for a, vals in tmpl:
        if a.lower() not in lower:
            m[a] = ldb.MessageElement(vals, 0, a)
    for a, vals in values.items():
        m[a] = ldb.MessageElement(vals, 0, a)
    raw.add(m)


def bulk_open(lp, path, n):
    return samba.Ldb(url=path, lp=lp,
                     options=["batch_mode:1",
                              "transaction_index_cache_size:%d" %
                              max(202481, 4 * n)])


def bulk_computers(lp, template_dn, entries, domain_sid, rid):
    """Copies of the computer template_dn, one per LDIF entry."""
    raw = bulk_open(lp, partition_file(lp, template_dn), len(entries))
    tmpl = template_of(raw, template_dn)
    raw.transaction_start()
    try:
        for dn, _, rdn_name, rdn_value, attrs in entries:
            rdn = rdn_value.encode()
            values = {"objectGUID": [new_guid()],
                      "objectSid": [ndr_pack(security.dom_sid(
                          "%s-%d" % (domain_sid, rid)))],
                      rdn_name: [rdn], "name": [rdn]}
            rid += 1
            for a, vals in attrs.items():
                if a.lower() != "objectclass":
                    values[a] = vals
            clone(raw, tmpl, dn, values)
    except Exception:
        raw.transaction_cancel()
        raise
    raw.transaction_commit()
    return rid


def bulk_dns(lp, zone_dn, template_name, records):
    """Copies of the dnsNode template_name, one per name of records."""
    tdn = "DC=%s,%s" % (template_name, zone_dn)
    raw = bulk_open(lp, partition_file(lp, tdn), len(records))
    tmpl = template_of(raw, tdn)
    raw.transaction_start()
    try:
        for name, recs in records.items():
            b = name.encode()
            clone(raw, tmpl, "DC=%s,%s" % (name, zone_dn),
                  {"objectGUID": [new_guid()], "dc": [b], "name": [b],
                   "dnsRecord": [ndr_pack(r) for r in recs]})
    except Exception:
        raw.transaction_cancel()
        raise
    raw.transaction_commit()


def reindex(samdb):
    """Rebuild every index through the stack, as dbcheck --reindex does:
    Samba's handlers, not plain ldb's, make the keys of some attributes
    (objectCategory is indexed by the bare DN of its stored <GUID=...>
    form)."""
    m = ldb.Message(ldb.Dn(samdb, "@ATTRIBUTES"))
    # one modify, one reindex: the element keys are only labels
    m["add"] = ldb.MessageElement("NONE", ldb.FLAG_MOD_ADD, "force_reindex")
    m["delete"] = ldb.MessageElement("NONE", ldb.FLAG_MOD_DELETE,
                                     "force_reindex")
    samdb.modify(m)


def bulk_check(samdb, computers, dns_names, zone_dn):
    """Every bulk copy is found through the whole module stack: by
    objectCategory under its parent, the last one by sAMAccountName."""
    for _, entries in computers:
        if not entries:
            continue
        res = samdb.search(base=entries[0][1], scope=ldb.SCOPE_ONELEVEL,
                           expression="(objectCategory=computer)",
                           attrs=["cn"])
        found = {str(m.dn).upper() for m in res}
        missing = [e[0] for e in entries if e[0].upper() not in found]
        if missing:
            die("%d bulk copies (first '%s') not found by objectCategory" %
                (len(missing), missing[0]))
        sam = entries[-1][4].get("sAMAccountName")
        if sam:
            res = samdb.search(base=samdb.domain_dn(),
                               expression="(sAMAccountName=%s)" %
                               ldb.binary_encode(sam[0].decode()),
                               attrs=["cn"])
            if len(res) != 1:
                die("bulk copy '%s' not found by sAMAccountName" %
                    entries[-1][0])
    if dns_names:
        res = samdb.search(base="DC=%s,%s" % (dns_names[-1], zone_dn),
                           scope=ldb.SCOPE_BASE, attrs=["dnsRecord"])
        if len(res) != 1:
            die("bulk DNS name '%s' not found" % dns_names[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smbconf", required=True)
    ap.add_argument("--admin-password-file", required=True)
    ap.add_argument("--ldif", action="append", default=[])
    ap.add_argument("--dns")
    ap.add_argument("--password", action="append", default=[],
                    metavar="SAM=FILE")
    ap.add_argument("--bulk-ldif", action="append", default=[])
    ap.add_argument("--bulk-dns")
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
        # The bulk templates: the first of each, through the stack.
        computers = []
        for path in args.bulk_ldif:
            entries = read_adds(samdb, path)
            if entries:
                add_entry(samdb, entries[0])
            computers.append((path, entries))
        dns = parse_dns_list(args.bulk_dns) if args.bulk_dns else {}
        dns_names = list(dns)
        if dns_names:
            add_dns(samdb, None, zone, {dns_names[0]: dns[dns_names[0]]})
        domain_sid = str(samdb.get_domain_sid())
        zone_dn = zone_dn_of(samdb, zone)
    except Exception:
        samdb.transaction_cancel()
        raise
    samdb.transaction_commit()
    if not computers and not dns_names:
        return
    # The copies, straight into the partitions' files: the stack's
    # handle must be closed first (one process, one lock per file).
    del samdb
    rid = BULK_RID_BASE
    for path, entries in computers:
        if len(entries) > 1:
            rid = bulk_computers(lp, entries[0][0], entries[1:], domain_sid,
                                 rid)
        print("seed: %s: %d entries (bulk)" % (path, len(entries)))
    if len(dns_names) > 1:
        bulk_dns(lp, zone_dn, dns_names[0],
                 {k: dns[k] for k in dns_names[1:]})
    if dns_names:
        print("seed: %s: %d names in %s (bulk)" %
              (args.bulk_dns, len(dns_names), zone))
    samdb = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
    reindex(samdb)
    bulk_check(samdb, computers, dns_names, zone_dn)
    print("seed: every bulk entry found through Samba")


if __name__ == "__main__":
    main()
