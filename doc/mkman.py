#!/usr/bin/env python3
"""Build a manual page from its hand-written template in doc/ and the
part that has one source elsewhere:

  mkman.py cli    TEMPLATE OUT --ipamctl BIN  [--version V]
      ipamctl(1): fills @SYNOPSIS@ and @COMMANDS@ with what
      `ipamctl help --man` prints (the command table behind --help).
  mkman.py schema TEMPLATE OUT --schema JSON --root SRCDIR [--version V]
      ipamctl.yaml(5): fills @KEYS@ with every key of the JSON Schema
      (its descriptions are what editors show) and each
      @INCLUDE path@ line with that file of SRCDIR as an example.

@VERSION@ and @DATE@ (SOURCE_DATE_EPOCH when set, for reproducible
builds; else the template's time) are filled everywhere.  Writes OUT
and OUT.gz (gzip -9n: no name, no time stamp), the form Debian installs.
"""
import argparse
import datetime
import gzip
import json
import os
import re
import subprocess
import sys


def esc(text, literal=False):
    """Roff text: backslashes printed, a line never starts a request,
    dashes of options (and every dash of literal text) are minus signs,
    `code` is bold."""
    out = []
    option = False
    code = False
    for i, c in enumerate(text):
        prev = text[i - 1] if i else ' '
        word = c.isalnum() or c in '_-.%'
        if c == '-' and not (prev.isalnum() or prev in '_-.%'):
            option = True
        elif not word:
            option = False
        if c == '-' and (literal or option):
            out.append('\\-')
        elif c == '\\':
            out.append('\\e')
        elif c == '`':
            code = not code
            out.append('\\fB' if code else '\\fR')
        else:
            out.append(c)
    if code:
        out.append('\\fR')
    s = ''.join(out)
    if s[:1] in ('.', "'"):
        s = '\\&' + s
    return s


def sections(roff):
    """{section name: its lines, .SH line included}, in order."""
    out = {}
    name = None
    for line in roff.splitlines():
        if line.startswith('.SH '):
            name = line[4:].strip().strip('"')
            out[name] = []
        if name is None:
            raise SystemExit('mkman: text before the first .SH')
        out[name].append(line)
    return out


def cli_parts(args):
    roff = subprocess.run([args.ipamctl, 'help', '--man'], check=True,
                          capture_output=True, text=True).stdout
    secs = sections(roff)
    if 'SYNOPSIS' not in secs or 'COMMANDS' not in secs:
        raise SystemExit('mkman: ipamctl help --man: no SYNOPSIS or COMMANDS')
    rest = [l for k, v in secs.items() if k != 'SYNOPSIS' for l in v]
    return {'@SYNOPSIS@': secs['SYNOPSIS'], '@COMMANDS@': rest}


def resolve(schema, node):
    ref = node.get('$ref')
    if ref:
        target = schema
        for part in ref.lstrip('#/').split('/'):
            target = target[part]
        merged = dict(target)
        merged.update({k: v for k, v in node.items() if k != '$ref'})
        return merged
    return node


def type_of(node):
    if 'const' in node:
        return json.dumps(node['const'])
    if 'enum' in node:
        return ' | '.join(str(v) for v in node['enum'])
    t = node.get('type')
    if t == 'array':
        items = node.get('items', {})
        if items.get('type') == 'object':
            return 'list of maps'
        return 'list of ' + type_of(items)
    if t == 'object':
        return 'map'
    return t or 'any'


def bounds(node):
    lo, hi = node.get('minimum'), node.get('maximum')
    if lo is not None and hi is not None:
        return '%s to %s' % (lo, hi)
    if lo is not None:
        return 'at least %s' % lo
    return None


def keys(schema, node, prefix, required, out, seen_refs):
    """One (path, node, required) per key, depth first, in schema order."""
    node = resolve(schema, node)
    for name, sub in node.get('properties', {}).items():
        path = prefix + name
        ref = sub.get('$ref')
        sub_r = resolve(schema, sub)
        out.append((path, sub_r, name in required))
        if ref and ref in seen_refs:
            continue  # the keys of a shared definition: listed once
        if ref:
            seen_refs[ref] = path
        if sub_r.get('type') == 'object':
            keys(schema, sub_r, path + '.', sub_r.get('required', []), out,
                 seen_refs)
        elif sub_r.get('type') == 'array' and \
                sub_r.get('items', {}).get('type') == 'object':
            items = sub_r['items']
            keys(schema, items, path + '[].', items.get('required', []), out,
                 seen_refs)


def schema_parts(args):
    with open(args.schema, encoding='utf-8') as f:
        schema = json.load(f)
    found = []
    keys(schema, schema, '', schema.get('required', []), found, {})
    lines = ['.SH KEYS']
    for path, node, req in found:
        lines.append('.TP')
        lines.append('\\fB%s\\fR (\\fI%s\\fR)' % (esc(path, True),
                                                  esc(type_of(node), True)))
        text = node.get('description')
        if not text:
            raise SystemExit('mkman: %s: key %s has no description'
                             % (args.schema, path))
        extra = []
        if req:
            extra.append('Required.')
        if 'default' in node:
            extra.append('Default: %s.' % json.dumps(node['default']))
        b = bounds(node)
        if b:
            extra.append('From %s.' % b)
        # One sentence a line, as roff wants (sentence spacing).
        for sentence in re.split(r'(?<=\.) +', ' '.join([text] + extra)):
            lines.append(esc(sentence))
    return {'@KEYS@': lines}


def include(root, rel):
    with open(os.path.join(root, rel), encoding='utf-8') as f:
        body = f.read().rstrip('\n').split('\n')
    return (['.PP', '\\fI%s\\fR:' % esc(rel, True), '.RS 4', '.nf'] +
            [esc(l, True) if l else '' for l in body] + ['.fi', '.RE'])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('kind', choices=['cli', 'schema'])
    ap.add_argument('template')
    ap.add_argument('out')
    ap.add_argument('--ipamctl')
    ap.add_argument('--schema')
    ap.add_argument('--root', default='.')
    ap.add_argument('--version', default='')
    args = ap.parse_args()

    parts = cli_parts(args) if args.kind == 'cli' else schema_parts(args)
    epoch = os.environ.get('SOURCE_DATE_EPOCH')
    when = int(epoch) if epoch else int(os.stat(args.template).st_mtime)
    date = datetime.datetime.fromtimestamp(
        when, datetime.timezone.utc).strftime('%Y-%m-%d')

    with open(args.template, encoding='utf-8') as f:
        template = f.read().split('\n')
    # The template's opening comment is for its editors; the page says
    # where it comes from instead.
    while template and template[0].startswith('.\\"'):
        template.pop(0)
    out = ['.\\" Generated by doc/mkman.py from doc/%s; edit that.'
           % os.path.basename(args.template)]
    for line in template:
        m = re.fullmatch(r'@INCLUDE (\S+)@', line)
        if m:
            out.extend(include(args.root, m.group(1)))
        elif line in parts:
            out.extend(parts.pop(line))
        else:
            out.append(line.replace('@VERSION@', args.version)
                       .replace('@DATE@', date))
    if parts:
        raise SystemExit('mkman: %s lacks %s' % (args.template,
                                                 ', '.join(parts)))
    text = '\n'.join(out).rstrip('\n') + '\n'
    with open(args.out, 'w', encoding='utf-8') as f:
        f.write(text)
    # gzip -9n: no file name, no time stamp (reproducible).
    with open(args.out + '.gz', 'wb') as raw:
        with gzip.GzipFile(filename='', mode='wb', compresslevel=9,
                           fileobj=raw, mtime=0) as gz:
            gz.write(text.encode('utf-8'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
