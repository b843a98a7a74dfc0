# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-or-later
# gpuprov's command line for the modules of gpuprov.fleet: the options that reach a node's
# gpuprov, the run (an argv, never a shell), and the JSON and exit codes it answers with.

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

# gpuprov(8), EXIT STATUS.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_REFUSED = 3
# apply --detailed-exitcodes
EXIT_CHANGED = 4
EXIT_CHANGED_REBOOT = 5

# The doc fragment gpuprov.fleet.target documents these.
TARGET_ARGS = dict(
    root=dict(type='path', default='/'),
    sysroot=dict(type='path'),
    binary=dict(type='str', default='gpuprov'),
)


def target_args(**more):
    """The module's argument spec: the target's options and the module's own."""
    spec = dict(TARGET_ARGS)
    spec.update(more)
    return spec


class Gpuprov(object):
    """gpuprov on one target, as the module's parameters name it."""

    def __init__(self, module):
        self.module = module
        p = module.params
        binary = p['binary']
        # A bare name is looked up in PATH, as a shell would; a path is taken as it is.
        if '/' not in binary:
            binary = module.get_bin_path(binary, required=True)
        self.base = [binary, '--root', p['root']]
        if p.get('sysroot'):
            self.base += ['--sysroot', p['sysroot']]
        if p.get('profiles'):
            self.base += ['--profiles', p['profiles']]

    def run(self, args):
        """rc, stdout, stderr and the argv of gpuprov with ARGS after the global options."""
        argv = self.base + list(args)
        rc, out, err = self.module.run_command(argv, check_rc=False)
        return rc, out, err, argv

    def run_json(self, args, expect):
        """gpuprov's JSON document and its exit code; any exit code not in EXPECT, or an
        output that is no JSON, fails the task with gpuprov's own message."""
        rc, out, err, argv = self.run(args)
        if rc not in expect:
            self.fail(rc, err, argv, out=out)
        try:
            doc = json.loads(out)
        except ValueError as e:
            self.module.fail_json(msg='%s: the output is no JSON: %s' % (' '.join(argv), e),
                                  rc=rc, stdout=out, stderr=err, cmd=argv)
        return rc, doc, err

    def fail(self, rc, err, argv, out='', **more):
        """The task fails with what gpuprov said and why its exit code means failure."""
        why = {EXIT_FAILURE: 'failed', EXIT_BAD_INPUT: 'bad usage or input',
               EXIT_REFUSED: 'refused, nothing changed'}.get(rc, 'exit status %d' % rc)
        last = err.strip().splitlines()[-1] if err.strip() else ''
        msg = 'gpuprov %s: %s' % (why, last) if last else 'gpuprov %s' % why
        self.module.fail_json(msg=msg, rc=rc, stdout=out, stderr=err, cmd=argv, **more)

    def status(self):
        """status --json: the node's record of what gpuprov applied and verified."""
        return self.run_json(['status', '--json'], (EXIT_OK,))[1]
