#!/usr/bin/env python3
"""The manual pages build/doc/ipamctl.1 and ipamctl.yaml.5: they render
without a warning (groff, man, and mandoc -Tlint when installed), their
gzipped copies are the same pages, ipamctl.1 has every command and every
option of the option tables in src/cli/ (each command's options in its
own section), and ipamctl.yaml.5 every key of the JSON Schema.

  check_man.py IPAMCTL DOCDIR SRCDIR"""
import gzip
import json
import os
import re
import shutil
import subprocess
import sys

failures = []


def fail(msg):
    failures.append(msg)
    print('FAIL: ' + msg)


def run(argv, **kw):
    env = dict(os.environ, LC_ALL='C.UTF-8', MANWIDTH='80')
    return subprocess.run(argv, capture_output=True, text=True, env=env, **kw)


def lint(page):
    r = run(['groff', '-man', '-Tutf8', '-ww', '-z', page])
    if r.returncode or r.stderr:
        fail('groff %s: %s' % (page, r.stderr.strip()))
    r = run(['man', '--warnings', '-l', page])
    if r.returncode or r.stderr:
        fail('man -l %s: %s' % (page, r.stderr.strip()))
    if not r.stdout.strip():
        fail('man -l %s: nothing rendered' % page)
    if shutil.which('mandoc'):
        r = run(['mandoc', '-Tlint', '-Wwarning', page])
        out = (r.stdout + r.stderr).strip()
        if out:
            fail('mandoc -Tlint %s:\n%s' % (page, out))
    else:
        print('note: mandoc not installed, its lint skipped')
    with open(page, encoding='utf-8') as f:
        text = f.read()
    with gzip.open(page + '.gz', 'rt', encoding='utf-8') as f:
        if f.read() != text:
            fail('%s.gz is not %s' % (page, page))
    return text


def roff(word):
    return word.replace('-', '\\-')


def sections(text):
    """{command: its .SS section} of the COMMANDS section."""
    out = {}
    name = None
    for line in text.split('\n'):
        if line.startswith('.SH'):
            name = None
        elif line.startswith('.SS '):
            name = line[4:].replace('\\-', '-')
            out[name] = ''
        elif name:
            out[name] += line + '\n'
    return out


def check_cli(ipamctl, text, srcdir):
    secs = sections(text)
    # The commands of the table, and each one's options in its section.
    def words(*args):
        return run([ipamctl, '__complete'] + list(args)).stdout.split()

    glob = set(words('options'))
    for cmd in words('commands'):
        if cmd in ('help', 'version'):
            continue
        if cmd not in secs:
            fail('ipamctl.1: no section for command %s' % cmd)
            continue
        for sub in [None] + words('subcommands', cmd):
            args = [cmd] + ([sub] if sub else [])
            for opt in set(words('options', *args)) - glob:
                if roff(opt) not in secs[cmd]:
                    fail('ipamctl.1: %s of %s not in its section'
                         % (opt, ' '.join(args)))
    # Every option of every table in src/cli, read from the source.
    table = re.compile(r'\{"([a-z][a-z0-9-]*)", CLI_(?:NO_)?ARG,')
    clidir = os.path.join(srcdir, 'src', 'cli')
    names = set()
    for f in sorted(os.listdir(clidir)):
        if f.endswith('.c'):
            with open(os.path.join(clidir, f), encoding='utf-8') as fh:
                names.update(table.findall(fh.read()))
    if len(names) < 20:
        fail('only %d options found in src/cli: the pattern is stale'
             % len(names))
    for name in sorted(names):
        if '\\fB\\-\\-%s\\fR' % roff(name) not in text:
            fail('ipamctl.1: option --%s of src/cli not documented' % name)
    for sec in ('SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'GLOBAL OPTIONS',
                'EXIT STATUS', 'ENVIRONMENT', 'FILES', 'EXAMPLES',
                'SEE ALSO'):
        if not re.search(r'^\.SH "?%s"?$' % sec, text, re.M):
            fail('ipamctl.1: no %s section' % sec)
    if '@' + 'SYNOPSIS@' in text or '@' + 'COMMANDS@' in text:
        fail('ipamctl.1: a marker was left')


def schema_keys(node, out):
    if isinstance(node, dict):
        for name, sub in node.get('properties', {}).items():
            out.add(name)
            schema_keys(sub, out)
        for key in ('items', '$defs'):
            sub = node.get(key)
            if isinstance(sub, dict):
                if key == '$defs':
                    for d in sub.values():
                        schema_keys(d, out)
                else:
                    schema_keys(sub, out)


def check_yaml(text, srcdir):
    with open(os.path.join(srcdir, 'schemas', 'ipamctl.schema.json'),
              encoding='utf-8') as f:
        schema = json.load(f)
    names = set()
    schema_keys(schema, names)
    for name in sorted(names):
        if not re.search(r'\\fB(?:[\w.\[\]]*\.)?%s\\fR' % re.escape(name),
                         text):
            fail('ipamctl.yaml.5: key %s not documented' % name)
    if not re.search(r'^\.SH KEYS$', text, re.M):
        fail('ipamctl.yaml.5: no KEYS section')


def main():
    ipamctl, docdir, srcdir = sys.argv[1:4]
    check_cli(ipamctl, lint(os.path.join(docdir, 'ipamctl.1')), srcdir)
    check_yaml(lint(os.path.join(docdir, 'ipamctl.yaml.5')), srcdir)
    if failures:
        print('%d problem(s)' % len(failures))
        return 1
    print('ok')
    return 0


if __name__ == '__main__':
    sys.exit(main())
